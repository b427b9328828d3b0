"""The practice file as a run first read it: parsed once, fingerprinted, refused if it changes.

A flow run pins its config at the start (``pin_config``) and hands its tasks the pin — the
path and the SHA-256 of the bytes it read — never the config itself, since Prefect stores what
tasks receive. A task gets the config with ``pinned_config``: from this process's cache when
it has parsed those bytes already (a worker process or Dask host parses them once), and only
after checking that the file still holds them. A file edited while a run is under way would
otherwise be seen by part of the run only — partitions validated under one rule set, charts
routed under another — so the run is refused with a ``ConfigError`` naming the file, and the
next run reads the new file from the start.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chartroute.config.loader import ConfigError, ConfigProblem, load_config_text, practice_path
from chartroute.config.models import PracticeConfig

#: Parsed configs kept per process (a few practices, or a few edits of one file).
CACHE_SIZE = 8


@dataclass(frozen=True, slots=True)
class PinnedConfig:
    """A practice file and the SHA-256 of the bytes a run read from it; ``since`` is a run's
    ``--since`` (ISO date), which overrides the file's ``charts.since`` for every task."""

    path: str
    sha256: str
    since: str | None = None


_parsed: dict[PinnedConfig, PracticeConfig] = {}
_lock = threading.Lock()


def pin_config(path: str | Path, since: date | None = None) -> tuple[PinnedConfig, PracticeConfig]:
    """Read and validate the file once; return its pin and the config (``ConfigError`` if bad)."""
    data = _read(str(path))
    pin = PinnedConfig(str(path), _digest(data), since.isoformat() if since else None)
    return pin, _parse(pin, data)


def pinned_config(pin: PinnedConfig) -> PracticeConfig:
    """The config ``pin`` names, provided the file still holds the bytes the run read."""
    data = _read(pin.path)
    found = _digest(data)
    if found != pin.sha256:
        raise ConfigError(
            [
                ConfigProblem(
                    pin.path,
                    None,
                    "",
                    f"changed during the run (sha256 {pin.sha256[:12]} when the run started, "
                    f"{found[:12]} now); the run stopped rather than use two versions of the "
                    "file. Run it again to use the new one.",
                )
            ]
        )
    with _lock:
        config = _parsed.get(pin)
    return config if config is not None else _parse(pin, data)


def _read(path: str) -> bytes:
    try:
        return practice_path(path).read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, None, "", f"cannot read: {exc.strerror}")]) from None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse(pin: PinnedConfig, data: bytes) -> PracticeConfig:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(pin.path, None, "", f"not UTF-8 text: {exc.reason}")]
        ) from None
    config = load_config_text(text, pin.path)
    if pin.since is not None:
        config = config.with_since(date.fromisoformat(pin.since))
    with _lock:
        if pin not in _parsed and len(_parsed) >= CACHE_SIZE:
            _parsed.pop(next(iter(_parsed)))
        _parsed[pin] = config
    return config
