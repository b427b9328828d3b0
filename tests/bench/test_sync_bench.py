"""The sync benchmark's options and arithmetic (bench/sync_bench.py): nothing here is timed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import sync_bench  # noqa: E402
from sync_bench_table import PHASES, render, summarise, targets  # noqa: E402


def _row(wall: float, records: int = 0, **more: float) -> dict[str, float]:
    return {"wall_s": wall, "cpu_s": wall / 2, "peak_mb": 100.0, "server_cpu_s": 0.5,
            "records": records, **more}  # fmt: skip


def _samples(scale: float = 1.0) -> dict[str, list[dict[str, float]]]:
    n = int(10_000 * scale)
    return {
        "raw": [_row(0.1 * scale, n), _row(0.2 * scale, n), _row(0.1 * scale, n)],
        "classify": [_row(2.0 * scale, n)],
        "sync-sqlite": [_row(10.0 * scale, n, charts=1000), _row(12.0 * scale, n, charts=1000)],
        "sync-pg": [_row(11.0 * scale, n, charts=1000)],
        "rerun-unchanged": [_row(1.0)],
        "rerun-1pct": [_row(0.5 * scale, n)],
        "naive": [_row(20.0, charts=1000, flow_s=10.0)],
    }


def test_defaults_run_every_phase_at_10k_encounters() -> None:
    args = sync_bench.parse_args([])
    assert (args.providers, args.days, args.rounds) == (5, 112, 3)
    assert args.phases == set(PHASES)
    assert args.work.is_absolute()


def test_a_subset_of_phases_and_an_unknown_one() -> None:
    args = sync_bench.parse_args(["--phases", "raw, sync-pg", "--rounds", "1"])
    assert args.phases == {"raw", "sync-pg"}
    with pytest.raises(SystemExit):
        sync_bench.parse_args(["--phases", "raw,warp-drive"])


def test_medians_rates_and_targets() -> None:
    summary = summarise(_samples())
    assert summary["raw"].wall_s == pytest.approx(0.1)
    assert summary["sync-sqlite"].wall_s == pytest.approx(11.0)
    assert summary["naive"].charts_per_s == pytest.approx(100.0)  # over the flow alone
    goals = {t.name: t for t in targets(summary)}
    assert goals["full sync / raw read rate, SQLite"].measured == pytest.approx(0.1 / 11.0)
    assert goals["full sync / raw read rate, SQLite"].met is False
    assert goals["unchanged rerun, CPU s in all (sync + server)"].measured == pytest.approx(1.0)
    assert goals["unchanged rerun, CPU s in all (sync + server)"].met is True
    assert goals["PostgreSQL / SQLite full sync, wall"].measured == pytest.approx(1.0)
    assert goals["peak memory of classify and sync"].met is True


def test_a_run_at_ten_times_the_size_gives_the_time_ratio() -> None:
    small, big = summarise(_samples()), summarise(_samples(scale=10.0))
    ratios = [t for t in targets(big, small) if "time ratio" in t.name]
    assert len(ratios) == 3
    assert [t.measured for t in ratios] == [pytest.approx(10.0)] * 3
    assert all(t.met for t in ratios)


def test_the_table_names_every_phase_and_leaves_unmeasured_targets_blank() -> None:
    summary = summarise({"raw": _samples()["raw"]})
    text = render(summary, targets(summary))
    assert PHASES["raw"] in text
    assert "| full sync / raw read rate, SQLite |  | ≥ 0.1 | not measured |" in text


def test_an_aged_store_reads_back_its_facts_stored_days_earlier(tmp_path: Path) -> None:
    """The bench's UPDATE keeps SQLAlchemy's stored form: the app reads the moved times."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from chartroute.fhir.facts import EncounterFact
    from chartroute.store.engine import make_engine
    from chartroute.store.facts import upsert_facts
    from chartroute.store.schema import fact

    stored = datetime(2026, 3, 10, 12, 0, 0, 123456, tzinfo=UTC)
    encounter = EncounterFact(
        "Encounter/e1", "1", stored, "finished", "AMB", (), stored, stored, True, True, (), None,
        None, ("Patient/p",),
    )  # fmt: skip
    engine = make_engine(f"sqlite:///{tmp_path / 'chartroute.db'}")
    with engine.begin() as conn:
        upsert_facts(conn, [encounter], stored)
    engine.dispose()
    sync_bench.age_store(tmp_path / "chartroute.db", 2)
    engine = make_engine(f"sqlite:///{tmp_path / 'chartroute.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(fact.c.synced_at)).scalar_one() == stored - timedelta(days=2)
    engine.dispose()
