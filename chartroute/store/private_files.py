"""Folders and database files that hold patient data are readable by their owner alone.

The quarantine keeps bad records' raw bytes (names, an MRN, note text) and a Bulk export's
downloads are whole resources; a folder created 0755 and a SQLite file created 0644 let any
local user read them. chartroute's home and every folder it creates for such data are made
0700 and the SQLite database 0600 (SQLite gives its ``-wal`` and ``-shm`` files the database
file's permissions, and the ones already there are tightened too).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only; tighten it when it is ours already."""
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    for created in [*missing, path]:
        _tighten(created, PRIVATE_DIR)
    return path


def private_sqlite(url: str) -> None:
    """Make a SQLite database file (created now if missing) and its companions owner-only."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        private_dir(path.parent)
    if not path.exists():
        # created here, 0600 from the start: SQLite would create it 0644 under the usual umask
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    for suffix in _SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _tighten(companion, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    """Drop group and other permissions from a path this user owns (others' are left)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return
    path.chmod(stat.S_IMODE(info.st_mode) & mode)
