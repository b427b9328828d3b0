"""The run-level validate step: orphan counts, Data Docs with counts only, the threshold."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.config.validation import Validation
from chartroute.validation import feed, references
from chartroute.validation.threshold import BadShare, TooManyBadRecords, check_bad_share
from tests import builders as b
from tests.validation.corpus import write_feed
from tests.validation.helpers import ingest, run_validation


def test_share_limit_is_inclusive() -> None:
    assert not BadShare(100, 5, 0.05).exceeded
    assert BadShare(100, 6, 0.05).exceeded
    assert BadShare(0, 0, 0.0).share == 0.0
    assert check_bad_share(1000, 49, 0.05).share == 0.049
    try:
        check_bad_share(1000, 51, 0.05, "sync run r1")
    except TooManyBadRecords as exc:
        assert str(exc).startswith("sync run r1 stopped: 51 of 1000 records quarantined (5.10%)")
    else:
        raise AssertionError("51 of 1000 passed a 5% limit")


def test_orphans_are_counted_whatever_order_files_are_read_in(
    sqlite_engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    # results are read before the orders they point at (file names sort that way)
    b.write_ndjson(
        tmp_path / "feed",
        [
            b.report("r1", "ServiceRequest/s1"),
            b.report("r2", "ServiceRequest/s-missing"),
            b.order("s1", "Encounter/e-missing"),
            b.task("t1", "MedicationRequest/m1"),  # not a type the rules read: not an orphan
        ],
    )
    plan, counts = ingest(sqlite_engine, tmp_path / "feed", as_of)
    settings = Validation(data_docs_dir=str(tmp_path / "docs"))
    report = run_validation(sqlite_engine, plan, counts, as_of, settings)
    assert report.orphans == 2
    label = "references / reference: points at a resource that has not arrived"
    assert report.checks[label] == {"checked": 3, "failed": 2}


def test_orphans_are_counted_across_fetches_on_both_databases(
    engine: Engine, tmp_path: Path, as_of: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's links are read a fetch at a time (a server-side cursor on PostgreSQL)."""
    monkeypatch.setattr(references, "LINKS_PER_FETCH", 1)
    monkeypatch.setattr(feed, "LINKS_PER_CHECK", 2)
    b.write_ndjson(
        tmp_path / "feed",
        [
            b.report("r1", "ServiceRequest/s1"),
            b.report("r2", "ServiceRequest/s-missing"),
            b.order("s1", "Encounter/e-missing"),
            b.order("s2", "Encounter/e1"),
            b.encounter("e1"),
        ],
    )
    plan, counts = ingest(engine, tmp_path / "feed", as_of)
    report = run_validation(engine, plan, counts, as_of, Validation(data_docs_dir=None))
    assert report.orphans == 2
    label = "references / reference: points at a resource that has not arrived"
    assert report.checks[label] == {"checked": 4, "failed": 2}


def test_a_runs_links_are_found_from_its_facts_not_by_reading_every_link(
    sqlite_engine: Engine, as_of: datetime
) -> None:
    """A small sync into a large store reads its own links: SQLite reached them through every
    link of the store while the query was sorted and ``fact.synced_at`` had no index."""
    from sqlalchemy.dialects import sqlite

    stmt = references.links_statement(as_of)
    sql = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with sqlite_engine.connect() as conn:
        plan = " / ".join(str(row[3]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "ix_fact_synced_at" in plan, plan
    assert "SCAN fact_link" not in plan, plan


@pytest.mark.parametrize("window", [1, 2, 3, 7, 200_000])
def test_orphan_counts_add_up_across_windows_of_links(
    window: int, as_of: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "LINKS_PER_CHECK", window)
    links = [
        ("DiagnosticReport/r1", "ServiceRequest/s1", True),
        ("DiagnosticReport/r2", "ServiceRequest/s-missing", False),
        ("DiagnosticReport/r2", "MedicationRequest/m1", False),  # a type no rule reads
        ("ServiceRequest/s1", "Encounter/e-missing", False),
        ("ServiceRequest/s2", "Encounter/e1", True),
        ("ServiceRequest/s3", "Encounter/e1", True),
        ("Task/t1", "Encounter/e2", False),
    ]
    checks = feed.FeedValidator(Validation(data_docs_dir=None), as_of).count_orphans(links)
    label = "references / reference: points at a resource that has not arrived"
    assert checks == {label: {"checked": 6, "failed": 3}}


def _text(folder: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace") for p in folder.rglob("*") if p.suffix in (".html", ".json")
    )


def test_data_docs_show_counts_per_expectation_and_no_record_content(
    sqlite_engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    write_feed(tmp_path / "feed")
    docs = tmp_path / "docs"
    settings = Validation(data_docs_dir=str(docs))
    plan, counts = ingest(sqlite_engine, tmp_path / "feed", as_of)
    report = run_validation(sqlite_engine, plan, counts, as_of, settings)
    assert report.data_docs == docs / "index.html" and report.data_docs.is_file()
    pages = list((docs / "validations" / "encounters" / plan.run_id).rglob("*.html"))
    assert len(pages) == 1
    page = re.sub(r"\s+", " ", pages[0].read_text())
    assert "2 unexpected values found" in page  # the conflicting duplicate pair
    everything = _text(docs)
    for content in ("x-status", "x-dup", "Patient/p1", "2026-03-02T09", "OFFICE"):
        assert content not in everything, content
    # a second run adds its own pages; the index lists both
    b.write_ndjson(tmp_path / "feed2", [b.encounter("e9")])
    plan2, counts2 = ingest(sqlite_engine, tmp_path / "feed2", as_of)
    run_validation(sqlite_engine, plan2, counts2, as_of, settings)
    index = (docs / "index.html").read_text()
    assert plan.run_id in index and plan2.run_id in index
