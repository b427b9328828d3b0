"""Every kind of bad record is quarantined with its reason and location; the rest is stored."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from chartroute.config.validation import Validation
from chartroute.store.quarantine import location_key
from tests.validation.corpus import BROKEN, GOOD, write_feed
from tests.validation.helpers import held, ingest, run_validation, stored_keys


def test_each_broken_record_is_held_with_its_reason_and_location(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    where = write_feed(tmp_path / "feed")
    _, counts = ingest(engine, tmp_path / "feed", as_of)
    quarantine = held(engine)
    for bad in BROKEN:
        key = bad.key or location_key(where[bad.name])
        assert key in quarantine, bad.name
        record = quarantine[key]
        assert any(bad.reason in r for r in record.reasons), (bad.name, record.reasons)
        assert where[bad.name] in record.location.split(", "), (bad.name, record.location)
    # the two conflicting copies of one resource are one held record, with both locations
    dup = quarantine["Encounter/x-dup"]
    assert len(dup.location.split(", ")) == 2
    assert len(quarantine) == len(BROKEN) - 1
    assert counts.quarantined == len(BROKEN)
    assert counts.read == len(BROKEN) + len(GOOD)
    assert counts.read == counts.stored + counts.quarantined + counts.skipped_types


def test_good_odd_and_orphaned_records_are_stored(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    write_feed(tmp_path / "feed")
    plan, counts = ingest(engine, tmp_path / "feed", as_of)
    keys = stored_keys(engine)
    for resource in GOOD:
        assert f"{resource['resourceType']}/{resource['id']}" in keys
    assert not any(k.startswith("Encounter/x-") for k in keys)
    report = run_validation(
        engine, plan, counts, as_of, Validation(data_docs_dir=str(tmp_path / "dd"))
    )
    assert report.orphans == 1  # DiagnosticReport/r-orphan -> ServiceRequest/never-arrives
    assert report.share.bad == len(BROKEN) and report.share.read == counts.read


def test_reason_counts_carry_no_record_content(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    write_feed(tmp_path / "feed")
    _, counts = ingest(engine, tmp_path / "feed", as_of)
    assert counts.reasons["status: not in the FHIR R4 encounter-status value set"] == 1
    assert counts.reasons["period.start: not a FHIR dateTime"] == 1
    assert counts.reasons["id: not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)"] == 1
    for label in counts.reasons:
        assert "2026" not in label and "'" not in label and '"' not in label
    checks = counts.checks
    assert checks["encounters / period.end: before period.start"]["failed"] == 1
    assert (
        checks["encounters / id: sent more than once at the same version with different content"][
            "failed"
        ]
        == 2
    )
