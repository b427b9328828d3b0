"""Batches stored on a thread of their own, beside the reading of the next window, store what
storing each batch as it comes stores (chartroute/batch_writer.py)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from chartroute import ingest
from chartroute.batch_writer import BatchWriter, stores_aside
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine
from tests import builders as b
from tests.core.test_stored_lines import VARIANTS, stored


def test_batches_are_stored_in_order_and_busy_until_stored() -> None:
    release = threading.Event()
    done: list[int] = []

    def store(batch: int) -> int:
        release.wait(5)
        done.append(batch)
        return batch * 10

    with BatchWriter(store, aside=True, depth=2) as writer:
        writer.put(1, ["Encounter/e1"])
        writer.put(2, ["Encounter/e1", "Observation/o2"])
        assert writer.busy_keys() == {"Encounter/e1", "Observation/o2"}
        release.set()
        assert writer.finish() == [10, 20]
        assert done == [1, 2]
        assert writer.busy_keys() == frozenset()


def test_storing_as_each_batch_comes_has_nothing_busy() -> None:
    with BatchWriter(lambda n: n + 1, aside=False) as writer:
        writer.put(1, ["Encounter/e1"])
        assert writer.busy_keys() == ()
        assert writer.finish() == [2]
    assert not stores_aside(make_engine("sqlite://"))


@pytest.mark.parametrize("aside", [True, False])
def test_a_failed_batch_stops_the_storing_and_is_raised_to_the_reader(aside: bool) -> None:
    done: list[int] = []

    def store(batch: int) -> int:
        if batch == 2:
            raise RuntimeError("server gone")
        done.append(batch)
        return batch

    writer: BatchWriter[int, int] = BatchWriter(store, aside=aside, depth=1)
    with pytest.raises(RuntimeError, match="server gone"), writer:
        for n in range(1, 50):
            writer.put(n, [])
        writer.finish()
    assert done == [1]


def test_batches_handed_over_are_stored_when_the_reading_fails() -> None:
    """A window screened before the source failed is stored, as it always was."""
    done: list[int] = []
    gate = threading.Event()

    def store(batch: int) -> int:
        gate.wait(5)
        done.append(batch)
        return batch

    with pytest.raises(OSError), BatchWriter(store, aside=True) as writer:
        writer.put(1, [])
        writer.put(2, [])
        gate.set()
        raise OSError("export file vanished")
    assert done == [1, 2]


def slow_store(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Each batch's store waits first, so the reader runs ahead of it."""
    real = ingest.store_batch

    def slow(*args: Any, **kwargs: Any) -> ingest.IngestCounts:
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "store_batch", slow)


def read_one_by_one(engine: Engine, folder: Path, *, aside: bool) -> ingest.IngestCounts:
    """A run whose windows, batches and line lookups are one record each."""
    source = NdjsonDirSource(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ingest, "LINES_PER_LOOKUP", 1)
        return ingest.ingest_partitions(
            engine, source, source.partitions(), batch_size=1, store_aside=aside
        )


def test_a_line_of_a_resource_still_being_stored_is_read_again(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store holds n1 as read from line A; the export sends n1 as B, then as A again. B
    waits to be stored when A's line is looked up: the lookup still finds A stored, and
    letting A go would leave B stored, where storing each window first stores A."""
    first, second = VARIANTS["n1"][0], VARIANTS["n1"][1]
    folder = tmp_path / "src"
    b.write_ndjson(folder, [b.encounter("e1"), first])
    read_one_by_one(engine, folder, aside=False)
    b.write_ndjson(folder, [b.encounter("e1"), second, first])
    slow_store(monkeypatch, 0.3)
    counts = read_one_by_one(engine, folder, aside=True)
    assert counts.facts_updated == 2  # n1 to B, then back to A
    reread = make_engine(f"sqlite:///{tmp_path / 'inline.db'}")
    b.write_ndjson(folder, [b.encounter("e1"), first])
    read_one_by_one(reread, folder, aside=False)
    b.write_ndjson(folder, [b.encounter("e1"), second, first])
    read_one_by_one(reread, folder, aside=False)
    assert stored(engine)[0] == stored(reread)[0]


#: an export as one file per type, each resource's picks in order: copies of one resource
#: land in different windows of one record, so a later copy meets an earlier one unstored
exports = st.lists(
    st.fixed_dictionaries(
        {rid: st.lists(st.integers(0, len(v) - 1), max_size=3) for rid, v in VARIANTS.items()}
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exports, st.sampled_from([0.0, 0.002, 0.02]))
def test_storing_aside_stores_what_storing_each_window_first_stores(
    tmp_path_factory: pytest.TempPathFactory, runs: list[dict[str, list[int]]], pause: float
) -> None:
    root = tmp_path_factory.mktemp("aside")
    ends = []
    for aside in (True, False):
        engine = make_engine(f"sqlite:///{root / f'{aside}.db'}")
        with pytest.MonkeyPatch.context() as mp:
            slow_store(mp, pause if aside else 0.0)
            for number, export in enumerate(runs):
                resources = [VARIANTS[rid][i] for rid, picks in export.items() for i in picks]
                folder = root / f"{aside}-{number}"
                b.write_ndjson(folder, resources)
                if resources:
                    read_one_by_one(engine, folder, aside=aside)
        ends.append(stored(engine))
        engine.dispose()
    assert ends[0] == ends[1]


def test_a_first_load_stored_aside_matches(engine: Engine, tmp_path: Path, as_of: datetime) -> None:
    """The default path on each database (aside on PostgreSQL) over a practice with
    suites: the counts a run reports add up the same."""
    from chartroute.config.validation import Validation
    from chartroute.validation.feed import FeedValidator

    folder = tmp_path / "src"
    practice = [b.encounter("e1"), b.note("n1"), b.order("sr1"), b.encounter("e2")]
    b.write_ndjson(folder, [*practice, {**b.note("n2", "Encounter/e2"), "status": "bad"}])
    source = NdjsonDirSource(folder)
    validator = FeedValidator(Validation(), as_of, read_at=as_of)
    counts = ingest.ingest_partitions(
        engine, source, source.partitions(), batch_size=2, validator=validator, validate_size=2
    )
    assert (counts.read, counts.stored, counts.quarantined) == (5, 4, 1)
    assert counts.facts_inserted == 4
    assert stored(engine)[2] == ("DocumentReference/n2",)
