"""The expectation suites run once per run over every partition's records, before any is
stored: a reject in any partition is quarantined and never stored, and a feed over the
bad-record limit fails the run before its cursors move."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from chartroute.config.validation import Validation
from chartroute.sources import NdjsonDirSource
from chartroute.store.schema import fact, quarantine, source_cursor
from chartroute.sync_here import IngestHere
from chartroute.sync_sequence import ingest_and_advance
from chartroute.validation.run import SuiteRunner
from chartroute.validation.suites import default_suites_dir
from chartroute.validation.threshold import TooManyBadRecords
from tests import builders as b


@pytest.fixture
def strict(tmp_path: Path) -> Validation:
    """The project's suites, with inpatient visits (class IMP) made a reason to quarantine."""
    suites = tmp_path / "suites"
    shutil.copytree(default_suites_dir(), suites)
    path = suites / "encounters.yaml"
    path.write_text(path.read_text().replace("AMB, EMER, FLD, HH, IMP,", "AMB, EMER, FLD, HH,"))
    return Validation(suites_dir=str(suites), max_bad_share=0.5)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every call of the suites, with the tables it was handed."""
    seen: list[list[str]] = []
    real = SuiteRunner.run

    def counted(self: SuiteRunner, frames: Mapping[str, Any], parameters: Any) -> Any:
        seen.append(sorted(frames))
        return real(self, frames, parameters)

    monkeypatch.setattr(SuiteRunner, "run", counted)
    return seen


def feed(folder: Path, resources: list[dict[str, Any]]) -> NdjsonDirSource:
    """A folder whose Encounter file is cut into many small partitions."""
    b.write_ndjson(folder, resources)
    return NdjsonDirSource(folder, partition_bytes=512)


def test_the_suites_run_once_over_every_partition_of_a_run(
    engine: Engine, tmp_path: Path, as_of: datetime, strict: Validation, calls: list[list[str]]
) -> None:
    visits = [b.encounter(f"e{i}") for i in range(12)]
    source = feed(tmp_path / "feed", [*visits, b.note("n1"), b.order("s1")])
    loaded = ingest_and_advance(IngestHere(engine, source, as_of, strict))
    assert len(loaded.plan.partitions) > 3  # several files, the Encounter file cut in pieces
    assert loaded.counts.stored == 14
    # each table's suite once for the run, a table at a time (the other is the orphan count)
    screens = [tables for tables in calls if "references" not in tables]
    assert sorted(screens) == [["encounters"], ["notes"], ["orders"]]


def test_rejects_in_any_partition_are_quarantined_and_never_stored(
    engine: Engine, tmp_path: Path, as_of: datetime, strict: Validation
) -> None:
    visits = [b.encounter(f"e{i}") for i in range(10)]
    bad = [b.encounter("bad1", klass="IMP"), b.encounter("bad2", klass="IMP")]
    source = feed(tmp_path / "feed", [bad[0], *visits, bad[1]])  # first and last partition
    loaded = ingest_and_advance(IngestHere(engine, source, as_of, strict))
    assert loaded.counts.quarantined == 2 and loaded.counts.stored == 10
    with engine.connect() as conn:
        keys = set(conn.execute(select(fact.c.key)).scalars())
        held = set(conn.execute(select(quarantine.c.key)).scalars())
    assert {"Encounter/bad1", "Encounter/bad2"} == held
    assert not keys & held


def test_a_feed_over_the_limit_fails_before_cursors_move(
    engine: Engine, tmp_path: Path, as_of: datetime, strict: Validation
) -> None:
    bad = [b.encounter(f"bad{i}", klass="IMP") for i in range(6)]
    source = feed(tmp_path / "feed", [*bad, b.encounter("e1"), b.encounter("e2")])
    with pytest.raises(TooManyBadRecords):
        ingest_and_advance(IngestHere(engine, source, as_of, strict))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(source_cursor)).scalar() == 0
        stored = set(conn.execute(select(fact.c.key)).scalars())
    assert stored == {"Encounter/e1", "Encounter/e2"}


def test_a_run_that_reads_nothing_builds_no_suites(
    engine: Engine, tmp_path: Path, as_of: datetime, strict: Validation, calls: list[list[str]]
) -> None:
    source = feed(tmp_path / "feed", [b.encounter("e1")])
    ingest_and_advance(IngestHere(engine, source, as_of, strict))
    calls.clear()
    again = IngestHere(engine, source, as_of, strict)
    rerun = ingest_and_advance(again)
    assert rerun.counts.read == 0 and calls == []
    assert again.validator is not None and again.validator._runner is None
