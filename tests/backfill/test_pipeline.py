"""The backfill pipeline end to end without Prefect: snapshots, resumption, idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.backfill.partitions import plan_partitions
from chartroute.backfill.run import (
    index_encounters,
    load_source,
    run_partition,
    write_reconstructed_snapshots,
)
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine

from .conftest import FINAL_AS_OF, Practice, loaded_engine
from .helpers import PARTITION_DAYS, backfill, ledger, name_for, snapshot_values
from .test_as_of_truth import reconstructed


class Killed(Exception):
    """Stands in for a worker dying in the middle of a partition."""


def test_snapshots_count_the_reconstructed_blockers(tmp_path: Path, practice: Practice) -> None:
    engine = loaded_engine(f"sqlite:///{tmp_path / 'a.db'}", practice)
    backfill(engine, practice.config, practice.first, practice.last)
    values = snapshot_values(engine)
    for offset in (0, 4, 12, 30, 50):
        day = practice.first + timedelta(days=offset)
        pairs = reconstructed(engine, practice, day)
        by_category = Counter(c for items in pairs.values() for c, _ in items)
        stored = {k[3]: v for k, v in values.items() if k[:3] == (day, "open_items", "category")}
        assert stored == {c: float(n) for c, n in by_category.items()}, day
        assert values.get((day, "open_charts", "total", ""), 0.0) == len(pairs)
        ages = sum(v for k, v in values.items() if k[:3] == (day, "open_items", "age"))
        assert ages == sum(by_category.values())


def test_a_backfill_killed_mid_partition_resumes_to_the_same_state(
    tmp_path: Path, practice: Practice, engine: Engine
) -> None:
    config, first, last = practice.config, practice.first, practice.last
    load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    index_encounters(engine, config.practice.timezone)
    name = name_for(first, last)
    plan = plan_partitions(first, last, PARTITION_DAYS)
    assert len(plan) > 4

    def die(_: int) -> None:
        raise Killed

    with pytest.raises(Killed):
        for n, partition in enumerate(plan):
            run_partition(engine, config, name, partition, last, on_batch=die if n == 3 else None)
    done, _ = ledger(engine, name)
    assert done == [p.key for p in plan[:3]], "the killed partition must commit nothing"

    # Resume: completed partitions are skipped, the rest run; then run everything once more.
    runs = [run_partition(engine, config, name, p, last) for p in plan]
    assert [r.skipped for r in runs] == [True] * 3 + [False] * (len(plan) - 3)
    write_reconstructed_snapshots(engine, config, name, first, last)
    again = [run_partition(engine, config, name, p, last) for p in plan]
    assert all(r.skipped for r in again)
    write_reconstructed_snapshots(engine, config, name, first, last)

    reference = loaded_engine(f"sqlite:///{tmp_path / 'reference.db'}", practice)
    backfill(reference, config, first, last)
    assert ledger(engine, name) == ledger(reference, name)
    assert snapshot_values(engine) == snapshot_values(reference)
    assert snapshot_values(engine), "the backfill wrote no figures"


def test_reloading_the_same_export_changes_nothing(tmp_path: Path, practice: Practice) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    first = load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    indexed = index_encounters(engine, practice.config.practice.timezone)
    second = load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    assert first.stored > 0 and indexed > 0
    assert second.read == 0 and second.skipped == first.partitions
    assert index_encounters(engine, practice.config.practice.timezone) == 0
