"""A backfill reads what the store holds, and a partition is done only for the store it read.

The defect: ``chartroute backfill`` without ``--source`` on a store filled by sync counted
0 encounters, recorded every partition as done and wrote empty "reconstructed" days; a rerun
with the export then skipped them all. Here a store filled without the backfill's own index
backfills its charts, a store that grew redoes the range, ``--force`` redoes it, and a range
with no encounter is refused before anything is written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from chartroute.backfill.coverage import NothingToBackfill
from chartroute.backfill.run import load_source
from chartroute.backfill.sequence import (
    BackfillHere,
    BackfillRequest,
    BackfillSummary,
    run_backfill_stages,
)
from chartroute.generate import generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.store.schema import backfill_partition, backlog_snapshot, fact

from .conftest import FINAL_AS_OF, START, Practice, profile

#: An export taken on the third clinic week: fewer visits than the final one.
EARLY_AS_OF = datetime(2025, 1, 22, 23, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def early_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("backfill-early")
    generate_practice(out, profile(EARLY_AS_OF))
    return out


def _backfill(engine: Engine, practice: Practice, *, force: bool = False) -> BackfillSummary:
    request = BackfillRequest(practice.first, practice.last, 7, load=False, force=force)
    here = BackfillHere(engine, practice.config, None, datetime.now(UTC))
    return run_backfill_stages(here, request)


def _stored_encounters(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(fact).where(fact.c.resource_type == "Encounter")
            ).scalar_one()
        )


def test_a_store_filled_by_sync_backfills_without_a_source(
    engine: Engine, practice: Practice
) -> None:
    # The sync's ingest alone: no backfill load, so nothing indexed the encounters yet.
    load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    first = _backfill(engine, practice)
    assert first.encounters == _stored_encounters(engine) > 0
    assert (first.skipped, first.redone, first.snapshot_days) == (
        0, 0, (practice.last - practice.first).days + 1,
    )  # fmt: skip
    again = _backfill(engine, practice)
    assert (again.skipped, again.ran, again.redone) == (first.partitions, 0, 0)
    forced = _backfill(engine, practice, force=True)
    assert (forced.skipped, forced.redone, forced.encounters) == (
        0, first.partitions, first.encounters,
    )  # fmt: skip


def test_a_store_that_grew_redoes_the_range(
    engine: Engine, practice: Practice, early_export: Path
) -> None:
    load_source(engine, NdjsonDirSource(early_export), EARLY_AS_OF)
    early = _backfill(engine, practice)
    assert 0 < early.encounters < 900
    load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    later = _backfill(engine, practice)
    assert later.skipped == 0 and later.redone == early.partitions
    assert later.encounters == _stored_encounters(engine)
    with engine.connect() as conn:
        covered = conn.execute(select(func.sum(backfill_partition.c.encounters))).scalar_one()
    assert covered == later.encounters


def test_zero_encounters_over_the_range_is_an_error_and_writes_nothing(
    engine: Engine, practice: Practice
) -> None:
    with pytest.raises(NothingToBackfill, match="the store holds none"):
        _backfill(engine, practice)
    load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    before = START - timedelta(days=60)
    request = BackfillRequest(before, before + timedelta(days=20), 7, load=False)
    with pytest.raises(NothingToBackfill) as raised:
        run_backfill_stages(BackfillHere(engine, practice.config, None, datetime.now(UTC)), request)
    message = str(raised.value)
    assert f"from {request.start} to {request.end}" in message
    assert f"started from {START}" in message and "choose days in that range" in message
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(backfill_partition)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(backlog_snapshot)).scalar() == 0
