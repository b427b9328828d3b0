"""A day's snapshot computed from a hand-built store matches the figures worked out by hand,
on SQLite and PostgreSQL; storing it is idempotent, keeps live and reconstructed apart, and a
later snapshot re-counts an earlier day's movements without touching its backlog."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, func, select, update

from chartroute.analytics.live_snapshot import record_snapshot, snapshot_inputs
from chartroute.config import PracticeConfig
from chartroute.store.schema import backlog_snapshot_value, chart, fact, work_item
from chartroute.store.snapshots import Figure, read_snapshots, write_snapshot
from chartroute.summary import BacklogSummary, backlog_summary
from tests.report import dataset


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with engine.begin() as conn:
        dataset.load(conn)
    return engine


def _figures(engine: Engine, origin: str = "live") -> dict[tuple[str, str, str], float]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(backlog_snapshot_value).where(
                backlog_snapshot_value.c.day == dataset.DAY,
                backlog_snapshot_value.c.origin == origin,
            )
        )
        return {(r.metric, r.dimension, r.key): r.value for r in rows}


def test_snapshot_matches_hand_computed_figures(loaded: Engine, config: PracticeConfig) -> None:
    snapshot = record_snapshot(loaded, config, dataset.AS_OF)
    assert snapshot.day == dataset.DAY
    computed = {(v.metric, v.dimension, v.key): v.value for v in snapshot.values}
    assert set(computed) == set(dataset.EXPECTED), (
        f"unexpected: {sorted(set(computed) - set(dataset.EXPECTED))}; "
        f"missing: {sorted(set(dataset.EXPECTED) - set(computed))}"
    )
    for key, expected in dataset.EXPECTED.items():
        assert math.isclose(computed[key], expected, rel_tol=1e-9, abs_tol=1e-9), key
    assert _figures(loaded) == pytest.approx(computed)


def test_retaking_a_snapshot_replaces_it_whole(loaded: Engine, config: PracticeConfig) -> None:
    record_snapshot(loaded, config, dataset.AS_OF)
    first = _figures(loaded)
    with loaded.begin() as conn:  # every item of Encounter/E1 closes before the next sync
        conn.execute(
            update(work_item)
            .where(work_item.c.encounter == "Encounter/E1")
            .values(status="closed", closed_at=dataset.AS_OF)
        )
    record_snapshot(loaded, config, dataset.AS_OF + timedelta(hours=1))
    second = _figures(loaded)
    assert second[("open_charts", "total", "")] == first[("open_charts", "total", "")] - 1
    assert ("open_items", "person", "dr-a") not in second  # gone, not left over as stale
    record_snapshot(loaded, config, dataset.AS_OF + timedelta(hours=1))
    assert _figures(loaded) == second


def test_live_is_preferred_and_reconstructed_kept(loaded: Engine, config: PracticeConfig) -> None:
    record_snapshot(loaded, config, dataset.AS_OF)
    earlier = dataset.DAY - timedelta(days=30)
    with loaded.begin() as conn:
        for day in (dataset.DAY, earlier):
            write_snapshot(
                conn,
                day,
                "reconstructed",
                dataset.AS_OF,
                [Figure("open_charts", "total", "", 99.0)],
                dataset.AS_OF,
            )
        days = read_snapshots(conn)
    assert [(d.day, d.origin) for d in days] == [(earlier, "reconstructed"), (dataset.DAY, "live")]
    assert days[0].get("open_charts") == 99.0
    assert days[1].get("open_charts") == dataset.EXPECTED[("open_charts", "total", "")]
    assert _figures(loaded, "reconstructed") == {("open_charts", "total", ""): 99.0}


def test_unknown_origin_is_refused(loaded: Engine) -> None:
    with loaded.begin() as conn, pytest.raises(ValueError, match="origin"):
        write_snapshot(conn, dataset.DAY, "guessed", dataset.AS_OF, [], dataset.AS_OF)  # type: ignore[arg-type]


def test_next_day_recounts_late_data_but_keeps_the_observed_backlog(
    loaded: Engine, config: PracticeConfig
) -> None:
    record_snapshot(loaded, config, dataset.AS_OF)
    late = dataset.note("DocumentReference/N8", "E7", dataset.t("03-11 02:00"))  # 22:00 local
    from chartroute.fhir.facts import fact_to_json

    with loaded.begin() as conn:
        conn.execute(
            fact.insert().values(
                key=late.key,
                resource_type="DocumentReference",
                version="1",
                updated_at=dataset.t("03-11 13:00"),  # read by the next morning's sync
                content_hash="late",
                body=fact_to_json(late),
                synced_at=dataset.t("03-11 13:00"),
            )
        )
        conn.execute(update(work_item).values(status="closed"))  # the backlog moved on
    record_snapshot(loaded, config, dataset.t("03-11 22:00"))
    figures = _figures(loaded)
    assert figures[("notes_signed", "total", "")] == 5
    assert figures[("notes_signed_after_hours", "total", "")] == 3
    assert figures[("notes_signed_after_hours", "clinician", "dr-b")] == 2
    assert figures[("open_items", "total", "")] == 6  # as observed that evening
    with loaded.connect() as conn:
        days = conn.execute(
            select(func.count(func.distinct(backlog_snapshot_value.c.day)))
        ).scalar()
    assert days == 2


def test_a_day_reads_only_the_charts_its_figures_count(loaded: Engine) -> None:
    """E6 closed today, but was never seen open and its visit predates the first sync: no
    figure counts it, so it is not read (a first sync closes most of a practice at once)."""
    with loaded.connect() as conn:  # streamed: read while the connection is open
        charts = list(snapshot_inputs(conn, dataset.DAY, dataset.AS_OF, "UTC").charts)
    assert sorted(c.encounter for c in charts) == [
        f"Encounter/{e}" for e in ("E1", "E4", "E5", "E7")
    ]


def _summary_from_rows(conn: Connection) -> BacklogSummary:
    """The summary counted in Python from every open item, as it was before SQL counted it."""
    summary = BacklogSummary()
    states = Counter(r.state for r in conn.execute(select(chart.c.state)))
    summary.open_charts, summary.closed_charts = states["open"], states["closed"]
    by_category: dict[str, set[str]] = defaultdict(set)
    roles_by_chart: dict[str, set[str]] = defaultdict(set)
    roles: Counter[str] = Counter()
    people: Counter[str] = Counter()
    w = work_item.c
    for r in conn.execute(
        select(w.encounter, w.category, w.role, w.assignee).where(w.status == "open")
    ):
        by_category[r.category].add(r.encounter)
        roles_by_chart[r.encounter].add(r.role)
        roles[r.role] += 1
        if r.assignee:
            people[r.assignee] += 1
        else:
            summary.unassigned_items += 1
    summary.charts_by_category = {k: len(v) for k, v in sorted(by_category.items())}
    summary.items_by_role = dict(sorted(roles.items()))
    summary.items_by_person = dict(sorted(people.items(), key=lambda kv: (-kv[1], kv[0])))
    summary.charts_on_clinicians = sum(1 for r in roles_by_chart.values() if "clinician" in r)
    summary.charts_on_staff_only = sum(1 for r in roles_by_chart.values() if "clinician" not in r)
    return summary


def test_the_backlog_summary_counts_as_one_pass_over_the_items_did(loaded: Engine) -> None:
    with loaded.begin() as conn:  # an unassigned item, and one assigned to the empty string
        conn.execute(update(work_item).where(work_item.c.id == "W1").values(assignee=None))
        conn.execute(update(work_item).where(work_item.c.id == "W2").values(assignee=""))
    with loaded.connect() as conn:
        summary = backlog_summary(conn)
        expected = _summary_from_rows(conn)
    assert summary == expected
    assert (summary.open_charts, summary.closed_charts) == (4, 3)
    assert summary.unassigned_items >= 2 and "" not in summary.items_by_person
    assert summary.charts_on_clinicians and summary.charts_on_staff_only
    assert list(summary.items_by_role) == sorted(summary.items_by_role)


def test_the_days_signed_notes_are_found_from_the_facts_stored_since(
    sqlite_engine: Engine,
) -> None:
    """A note stored before the day began cannot carry a signature from it: the scan starts
    from the recently stored facts by their index, where it read every note of the store."""
    from sqlalchemy.dialects import sqlite

    from chartroute.analytics.live_snapshot import notes_changed_since
    from chartroute.analytics.snapshots import day_bounds

    start, _end = day_bounds(dataset.DAY, "America/New_York")
    stmt = notes_changed_since(start)
    sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with sqlite_engine.connect() as conn:
        plan = " / ".join(str(row[3]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "ix_fact_synced_at" in plan, plan
