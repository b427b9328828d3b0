"""``chartroute deliver``, ``chartroute outbox`` and ``chartroute outbox retry``.

``deliver`` runs the deliver step without Prefect (the sync flow runs it as its last task);
``outbox`` lists messages with their state and last error; ``outbox retry`` puts dead letters
back in the queue after their cause is fixed. Output carries ids, channels, person ids and
errors, never message content.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, Failure, exit_codes
from chartroute.cli.options import config_option
from chartroute.cli.practice_home import announce, reading_store
from chartroute.cli.render import records_table
from chartroute.config import load_config
from chartroute.config.models import PracticeConfig
from chartroute.config.secrets import SecretRef
from chartroute.notify.secrets import env_secrets
from chartroute.store.engine import make_engine
from chartroute.vocabulary import Mode

outbox_app = typer.Typer(
    help="List outbox messages (`--status failed` for dead letters) and retry them.",
    invoke_without_command=True,
    no_args_is_help=False,
)

out = Console()
err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)

#: What a run in shadow mode tells the person who started it (docs/go-live.md).
SHADOW_NOTE = (
    "shadow mode: {messages} messages recorded and marked shadow, none sent; nothing is written "
    "to the EHR (`chartroute outbox --status shadow` lists them; `mode: live` delivers)"
)


class Status(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    shadow = "shadow"


class OutputFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"


COLUMNS = [
    "id",
    "status",
    "channel",
    "recipient",
    "kind",
    "items",
    "attempts",
    "failures",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "last_error",
]
#: The terminal table keeps to what fits; jsonl has every column.
TABLE_COLUMNS = [
    "id",
    "status",
    "channel",
    "recipient",
    "kind",
    "items",
    "attempts",
    "when",
    "last_error",
]


def _resolver(config: PracticeConfig) -> Any:
    """Environment variables, plus Prefect Secret blocks when the config names any."""
    uses_prefect = any(
        isinstance(value, SecretRef) and value.prefect_secret
        for channel in config.notify.channels.values()
        for value in (getattr(channel, name) for name in type(channel).model_fields)
    )
    if not uses_prefect:
        return env_secrets
    from chartroute.tasks.deliver import resolve_secret

    return resolve_secret


def deliver_command(
    config: str = config_option(),
    max_messages: int | None = typer.Option(
        None, "--max", min=1, help="Stop after this many send attempts."
    ),
) -> None:
    """Compose digests and urgent messages, then send what is due on every channel."""
    from chartroute.notify.deliver import deliver

    with exit_codes():
        cfg = load_config(config)
        counts = deliver(make_engine(), cfg, resolve=_resolver(cfg), max_messages=max_messages)
        for name, why in counts.unavailable.items():
            err.print(f"channel {name} skipped: {why}")
        if counts.mode == Mode.SHADOW:
            err.print(SHADOW_NOTE.format(messages=counts.shadow))
        err.print(
            f"composed {counts.digests} digests and {counts.immediate} single-item messages "
            f"({counts.urgent} urgent) "
            f"({counts.held} notifications held for clinic hours); sent {counts.sent}, "
            f"found already sent {counts.reconciled}, retrying later {counts.retrying}, "
            f"dead-lettered {counts.failed}"
        )
        err.print("outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.outbox.items())))
        note = counts.undelivered()
        if note:  # dead letters or a channel left down: exit 1, saying how many and where
            raise Failure(note)


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    status: Status | None = typer.Option(None, "--status", help="Only messages in this state."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table or jsonl."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Newest N messages."),
) -> None:
    """List outbox messages, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from chartroute.notify.outbox import list_messages, waiting_notifications

    announce(None, database=True)
    with exit_codes(), reading_store().connect() as conn:
        rows = list_messages(conn, status.value if status else None, limit)
        waiting = waiting_notifications(conn)
    if fmt is OutputFormat.jsonl:
        for row in rows:
            record = {c: _plain(row.get(c)) for c in [*COLUMNS, "provider_id", "urgent"]}
            sys.stdout.write(orjson.dumps(record).decode() + "\n")
        return
    title = f"{len(rows)} outbox messages" + (f" ({status.value})" if status else "")
    records_table(out, title, TABLE_COLUMNS, (_table_row(r) for r in rows))
    if waiting:
        err.print(f"{waiting} notifications wait to be composed (`chartroute deliver`)")


@outbox_app.command("retry")
def retry(
    ids: list[int] = typer.Argument(None, help="Message ids (from `chartroute outbox`)."),
    all_failed: bool = typer.Option(False, "--all", help="Every failed message."),
) -> None:
    """Put failed (dead-lettered) messages back in the queue; `chartroute deliver` sends them."""
    from chartroute.notify.outbox_claims import retry_failed
    from chartroute.store.schema import outbox_message

    with exit_codes():
        if not ids and not all_failed:
            raise BadInput("give message ids or --all")
        with make_engine().begin() as conn:
            if all_failed:
                done = retry_failed(conn, None, datetime.now(UTC))
            else:
                found = {
                    r.id: r.status
                    for r in conn.execute(
                        outbox_message.select()
                        .with_only_columns(outbox_message.c.id, outbox_message.c.status)
                        .where(outbox_message.c.id.in_(ids))
                    )
                }
                problems = [
                    f"message {i}: "
                    + ("not found" if i not in found else f"is {found[i]}, not failed")
                    for i in ids
                    if found.get(i) != "failed"
                ]
                if problems:
                    raise BadInput("; ".join(problems))
                done = retry_failed(conn, ids, datetime.now(UTC))
    err.print(f"{len(done)} messages queued again: {', '.join(map(str, done)) or '-'}")


def _table_row(row: dict[str, Any]) -> dict[str, Any]:
    """``when``: sent at for sent messages, else the next attempt (minutes, UTC)."""
    when = row["sent_at"] if row["status"] == "sent" else row["next_attempt_at"]
    return {**row, "when": f"{when:%Y-%m-%d %H:%M}" if when else None}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def register(app: typer.Typer) -> None:
    """Add the commands to the main ``chartroute`` app."""
    app.command("deliver")(deliver_command)
    app.add_typer(outbox_app, name="outbox")


def file_outbox_note(result: dict[str, Any], config_path: str) -> str:
    """The demo's closing line: how many messages the file channel wrote, and where."""
    from chartroute.config.notify import FileChannel
    from chartroute.notify.channels.file import folder_of

    counts = result.get("deliver") or {}
    folders = [
        str(folder_of(channel))
        for channel in load_config(config_path).notify.channels.values()
        if isinstance(channel, FileChannel)
    ]
    where = ", ".join(folders) if folders else "no file channel configured"
    return (
        f"notifications: {counts.get('sent', 0)} messages sent, {counts.get('held', 0)} held for "
        f"clinic hours; the file channel wrote what would have been sent to {where} "
        "(a folder per person; `chartroute outbox` lists the messages)"
    )
