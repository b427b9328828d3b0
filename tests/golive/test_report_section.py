"""The review's table in the management report and its artifact rows; shadow said on the page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from chartroute.report.html import SHADOW_NOTICE, render_report
from chartroute.report.markdown import accuracy_rows, headline_markdown
from chartroute.report.model import build_report_data
from chartroute.summary import SHADOW_BANNER
from chartroute.vocabulary import Mode
from tests.golive.conftest import Practice, fill_from_truth
from tests.golive.test_review import sample, store


def test_the_report_carries_the_accuracy_table_and_its_artifact_rows(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    with synced.connect() as conn:
        before = build_report_data(conn, practice.config)
    store(synced, fill_from_truth(practice, sample(synced, practice, 40)), tmp_path)
    with synced.connect() as conn:
        data = build_report_data(conn, practice.config)
    page = render_report(data)
    rows = accuracy_rows(data)

    assert "No verdicts yet" in render_report(before)
    assert data.accuracy is not None and data.accuracy.reviewed > 0
    assert 'id="review"' in page and "Classification accuracy" in page
    assert {r["category"] for r in rows} >= {"Unsigned note", "closed charts"}
    assert all(r["precision"] == "100%" for r in rows)
    assert [r["ready"] for r in rows] == [c.status for c in data.accuracy.categories]
    assert data.mode == "live" and SHADOW_NOTICE not in page


def test_a_practice_in_shadow_says_so_on_the_report(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    config = practice.config.model_copy(update={"mode": Mode.SHADOW})
    with synced.connect() as conn:
        data = build_report_data(conn, config)
    assert data.mode == "shadow"
    assert SHADOW_NOTICE in render_report(data)
    assert headline_markdown(data, tmp_path / "r.html").startswith(SHADOW_BANNER)
