"""The quarantine table and ``chartroute quarantine``: one row per held resource with every
reason, counts bumped when seen again, released when the record is fixed at the source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.store.quarantine import quarantine_records, release_quarantine
from tests import builders as b
from tests.validation.helpers import held, ingest, stored_keys

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _row(key: str, location: str, *reasons: str) -> dict[str, object]:
    return {
        "key": key,
        "resource_type": "Encounter",
        "resource_id": key.split("/")[-1],
        "location": location,
        "reasons": list(reasons),
        "raw": b"{}",
    }


def test_seen_again_bumps_count_and_keeps_first_seen(engine: Engine) -> None:
    with engine.begin() as conn:
        quarantine_records(conn, [_row("Encounter/a", "E.ndjson:1", "r1")], NOW)
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        quarantine_records(conn, [_row("Encounter/a", "E.ndjson:1", "r1")], later)
    record = held(engine)["Encounter/a"]
    assert (record.first_seen, record.last_seen, record.times_seen) == (NOW, later, 2)


def test_copies_in_one_batch_merge_locations_and_reasons(engine: Engine) -> None:
    with engine.begin() as conn:
        quarantine_records(
            conn,
            [
                _row("Encounter/a", "E.ndjson:1", "r1"),
                _row("Encounter/a", "E.ndjson:9", "r2", "r1"),
            ],
            NOW,
        )
    record = held(engine)["Encounter/a"]
    assert record.location == "E.ndjson:1, E.ndjson:9"
    assert record.reasons == ["r1", "r2"] and record.times_seen == 1
    with engine.begin() as conn:
        assert release_quarantine(conn, ["Encounter/a", "Encounter/zz"]) == 1
    assert held(engine) == {}


def test_fixed_at_the_source_leaves_quarantine_on_the_next_sync(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path, [b.encounter("e1", status="closed"), b.encounter("e2")])
    (tmp_path / "Encounter.ndjson").write_text(
        (tmp_path / "Encounter.ndjson").read_text() + "{oops\n"
    )
    ingest(engine, tmp_path, as_of)
    assert set(held(engine)) == {"Encounter/e1", "at:Encounter.ndjson:3"}
    assert "Encounter/e1" not in stored_keys(engine)
    # the EHR fixes both lines and the file is re-sent
    b.write_ndjson(tmp_path, [b.encounter("e1"), b.encounter("e2"), b.encounter("e3")])
    ingest(engine, tmp_path, as_of)
    assert held(engine) == {}
    assert {"Encounter/e1", "Encounter/e3"} <= stored_keys(engine)


def test_a_good_copy_does_not_release_a_bad_copy_read_in_the_same_batch(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    bad = {**b.encounter("e1"), "meta": {"versionId": "1"}, "class": {"code": "XYZ"}}
    good = {**b.encounter("e1"), "meta": {"versionId": "2"}}
    b.write_ndjson(tmp_path, [bad, good])
    _, counts = ingest(engine, tmp_path, as_of)
    assert counts.stored == 1 and counts.quarantined == 1
    assert "Encounter/e1" in held(engine) and "Encounter/e1" in stored_keys(engine)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    return url


def test_listing_shows_identifiers_and_reasons_only(
    cli_db: str, tmp_path: Path, as_of: datetime
) -> None:
    from chartroute.store.engine import make_engine

    engine = make_engine(cli_db)
    feed = tmp_path / "feed"
    b.write_ndjson(
        feed, [b.encounter("e1", status="closed"), b.encounter("e2", start="03/02/2026")]
    )
    ingest(engine, feed, as_of)
    result = CliRunner().invoke(app, ["quarantine", "--format", "jsonl"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["key"] for r in rows] == ["Encounter/e1", "Encounter/e2"]
    assert rows[0]["reasons"] == ["status: not in the FHIR R4 encounter-status value set"]
    assert rows[0]["location"] == "Encounter.ndjson:1" and rows[0]["times_seen"] == 1
    assert set(rows[0]) == {
        "key",
        "resource_type",
        "resource_id",
        "location",
        "reasons",
        "first_seen",
        "last_seen",
        "times_seen",
    }
    # nothing from the record itself beyond identifiers: no subject, no reason text
    assert "Patient/p1" not in result.stdout and "cough" not in result.stdout
    table = CliRunner().invoke(app, ["quarantine"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "2 records in quarantine" in table.stderr
    assert "Encounter.ndjson:2" in table.stdout


def test_explain_prints_the_specification_errors(
    cli_db: str, tmp_path: Path, as_of: datetime
) -> None:
    from chartroute.store.engine import make_engine

    engine = make_engine(cli_db)
    b.write_ndjson(
        tmp_path / "feed",
        [b.encounter("e2", start="2026-02-30T09:00:00Z"), b.encounter("e3", status="closed")],
    )
    ingest(engine, tmp_path / "feed", as_of)
    result = CliRunner().invoke(app, ["quarantine", "--explain", "Encounter/e2"])
    assert result.exit_code == 0
    assert "Encounter/e2  (read at Encounter.ndjson:1)" in result.stdout
    assert "period.start: not a FHIR dateTime" in result.stdout
    assert "FHIR R4 specification (fhir.resources R4B models) reports:" in result.stdout
    assert "period.start:" in result.stdout.split("reports:")[1]
    # a value-set problem is chartroute's own check: the base models accept any status code
    result = CliRunner().invoke(app, ["quarantine", "--explain", "Encounter/e3"])
    assert result.exit_code == 0 and "no errors" in result.stdout
    missing = CliRunner().invoke(app, ["quarantine", "--explain", "Encounter/nope"])
    assert missing.exit_code == 2 and "no quarantined record" in missing.stderr
