"""``classify --as-of`` a past time reads a record changed since as the store held it then."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from chartroute.config import PracticeConfig
from chartroute.store.engine import make_engine
from tests import builders as b
from tests.core.test_cli import CONFIG, run
from tests.core.test_sync_store import run_sync


def note(doc_status: str, updated: str) -> dict[str, object]:
    meta = {"versionId": "1", "lastUpdated": updated}
    return {**b.note("n1", doc_status=doc_status), "meta": meta}


def open_encounters(out: str) -> list[str]:
    return [json.loads(line)["encounter"] for line in out.splitlines()]


def test_a_note_signed_after_the_as_of_is_read_as_the_store_held_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: PracticeConfig, as_of: datetime
) -> None:
    monkeypatch.delenv("CHARTROUTE_DATABASE_URL", raising=False)
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    feed = tmp_path / "feed"
    b.write_ndjson(feed, [b.encounter("e1"), note("preliminary", "2026-03-03T10:00:00Z")])
    run_sync(make_engine(), feed, config, as_of)  # the store holds the unsigned note
    b.write_ndjson(feed, [b.encounter("e1"), note("final", "2026-03-08T10:00:00Z")])
    args = ("classify", str(feed), "--config", CONFIG, "--format", "jsonl")

    code, out, err = run(*args, "--as-of", "2026-03-05T12:00:00Z")
    assert code == 0, err
    assert open_encounters(out) == ["Encounter/e1"]  # unsigned on the 5th, as stored
    assert "1 records changed after the as-of time were read as the store held them" in err

    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "no-store"))
    code, out, err = run(*args, "--as-of", "2026-03-05T12:00:00Z")
    assert code == 0, err
    assert open_encounters(out) == []  # the current version: signed
    assert "1 records changed after the as-of time; their state" in err
    assert not (tmp_path / "no-store" / "chartroute.db").exists()  # classify wrote nothing
