"""Patient data at rest: the home and the database are the owner's alone, a bad record's raw
bytes are kept only ``validation.keep_raw_days``, and reasons quote no more than a prefix."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from chartroute import sync
from chartroute.cli.main import app
from chartroute.config.validation import Validation
from chartroute.store.engine import database_url, make_engine
from chartroute.store.quarantine import held_record
from tests import builders as b
from tests.validation.helpers import held, ingest

NAME = "MRN00001062 Peregrin Ravensworth"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_home_is_created_0700_and_the_sqlite_files_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "practice-home"))
    monkeypatch.delenv("CHARTROUTE_DATABASE_URL", raising=False)
    old_umask = os.umask(0o022)  # the usual umask: nothing relies on a stricter one
    try:
        url = database_url()
    finally:
        os.umask(old_umask)
    assert _mode(tmp_path / "practice-home") == 0o700
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        files = list((tmp_path / "practice-home").glob("chartroute.db*"))
        assert {f.name for f in files} >= {"chartroute.db", "chartroute.db-wal"}
        for path in files:
            assert _mode(path) == 0o600, path.name
    finally:
        engine.dispose()


def test_a_database_left_readable_by_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600


def _feed(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    bad = {**b.encounter("e1"), "status": 5, "subject": {"display": "Peregrin Ravensworth"}}
    (folder / "Encounter.ndjson").write_bytes(
        orjson.dumps(bad) + b"\n" + orjson.dumps(b.encounter(NAME)) + b"\n"
    )


@pytest.mark.parametrize("days,kept", [(7, True), (0, False)])
def test_raw_bad_records_are_kept_only_keep_raw_days(
    engine: Engine, tmp_path: Path, as_of: datetime, days: int, kept: bool
) -> None:
    _feed(tmp_path / "feed")
    plan, counts = ingest(engine, tmp_path / "feed", as_of)
    settings = Validation(keep_raw_days=days, max_bad_share=1)
    sync.validate_ingested(engine, plan, settings, as_of, counts, data_docs=False)
    with engine.connect() as conn:
        record = held_record(conn, "Encounter/e1")
    assert record is not None and bool(record.raw) is kept
    assert set(held(engine)) == {"Encounter/e1", "at:Encounter.ndjson:2"}  # still listed


def test_explain_says_when_the_content_is_no_longer_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_of: datetime
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    engine = make_engine(url)
    try:
        _feed(tmp_path / "feed")
        plan, counts = ingest(engine, tmp_path / "feed", as_of)
        settings = Validation(keep_raw_days=0, max_bad_share=1)
        sync.validate_ingested(engine, plan, settings, as_of, counts, data_docs=False)
    finally:
        engine.dispose()
    result = CliRunner().invoke(app, ["quarantine", "--explain", "Encounter/e1"])
    assert result.exit_code == 0
    assert "no longer kept" in result.stdout and "Ravensworth" not in result.stdout


def test_an_invalid_id_is_never_quoted_whole(
    sqlite_engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    _feed(tmp_path / "feed")
    _, counts = ingest(sqlite_engine, tmp_path / "feed", as_of)
    listed = orjson.dumps([r.listing() for r in held(sqlite_engine).values()], default=str)
    assert b"MRN" in listed  # the masked prefix, to find it by
    for part in ("MRN0", "Peregrin", "Ravensworth"):
        assert part.encode() not in listed
        assert part not in str(counts.reasons)
