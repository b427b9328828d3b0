"""The file channel: each message as ``<folder>/<person>/<message key>.txt`` and ``.html``.

The embedded default, so ``chartroute demo`` shows what would have been sent. The file name is
the message's idempotency key and files are written to a temporary name and renamed, so a file
that exists is complete, a resend overwrites it with the same bytes, and ``lookup`` needs only
to look for it. A writer killed mid-file leaves its temporary file; the next run deletes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from chartroute.config.notify import FileChannel as FileChannelConfig
from chartroute.notify import render
from chartroute.notify.channels.base import NOT_SENT, Lookup, Outgoing, TemporaryDeliveryError
from chartroute.store.engine import home
from chartroute.store.owners import pid_alive


def folder_of(config: FileChannelConfig) -> Path:
    """Where a file channel writes: its ``path``, else ``$CHARTROUTE_HOME/outbox``."""
    return Path(config.path) if config.path else home() / "outbox"


class FileChannel:
    """Writes messages to a folder instead of sending them."""

    def __init__(self, name: str, config: FileChannelConfig) -> None:
        self.name = name
        self.folder = folder_of(config)
        remove_orphans(self.folder)

    def paths(self, message: Outgoing) -> tuple[Path, Path]:
        base = self.folder / message.recipient / message.key
        return base.with_suffix(".html"), base.with_suffix(".txt")

    def send(self, message: Outgoing) -> str:
        html_path, text_path = self.paths(message)
        try:
            text_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(html_path, render.html_body(message.content, message.key))
            # The text file is written last: its presence means the message is complete.
            _write_atomically(
                text_path,
                f"To: {message.address}\nSubject: {render.subject(message.content)}\n\n"
                + render.text(message.content, message.key),
            )
        except OSError as exc:
            raise TemporaryDeliveryError(f"cannot write {text_path}: {exc.strerror}") from exc
        return str(text_path)

    def lookup(self, message: Outgoing) -> Lookup:
        _, text_path = self.paths(message)
        return Lookup("sent", str(text_path)) if text_path.is_file() else NOT_SENT

    def close(self) -> None:
        return None


def remove_orphans(folder: Path) -> int:
    """Delete temporary files a killed writer left (``.<key>.txt.<pid>.tmp`` whose pid is gone);
    returns how many. A live writer's file is left alone."""
    removed = 0
    for orphan in folder.glob("*/.*.tmp"):
        pid = orphan.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            orphan.unlink(missing_ok=True)
            removed += 1
    return removed


def _write_atomically(path: Path, body: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
