"""The report over backfilled days agrees with itself.

The defect: over reconstructed days the report drew opened/closed as flat zeros, said
"nothing open" in the Pareto and the per-person queues beside a headline of hundreds open, and
"no snapshots in this period" for after-hours and charge lag under "snapshots: N
reconstructed", with empty axes above each note. Every section now reads the same days, what a
backfill cannot know says so once, and a section without data draws no chart.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from chartroute.backfill.run import load_source
from chartroute.backfill.sequence import BackfillHere, BackfillRequest, run_backfill_stages
from chartroute.report.html import render_report
from chartroute.report.model import ReportData, build_report_data
from chartroute.sources import NdjsonDirSource

from .conftest import FINAL_AS_OF, Practice

NOT_KNOWN = "reconstructed by a backfill"


def _sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', html, flags=re.S))


@pytest.fixture
def backfilled(engine: Engine, practice: Practice) -> tuple[ReportData, str]:
    load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    last = practice.first + timedelta(days=25)
    request = BackfillRequest(practice.first, last, 7, load=False)
    run_backfill_stages(BackfillHere(engine, practice.config, None, datetime.now(UTC)), request)
    with engine.connect() as conn:
        data = build_report_data(conn, practice.config, practice.first, last)
    return data, render_report(data, {p.id: p.name for p in practice.config.roster})


def test_every_section_reads_the_backfilled_days_or_says_why_once(
    backfilled: tuple[ReportData, str],
) -> None:
    data, html = backfilled
    assert data.origins == {"reconstructed": 26}
    open_now = data.latest.get("open_items") if data.latest else None
    assert open_now and open_now > 0
    sections = _sections(html)
    # What a backfill rebuilds is drawn, from the same last day as the headline.
    for drawn in ("backlog-trend", "clinician-backlog", "aging", "pareto"):
        assert "<svg" in sections[drawn] and 'class="empty"' not in sections[drawn], drawn
    reasons = data.latest.breakdown("open_items", "reason") if data.latest else {}
    assert sum(reasons.values()) == open_now  # the Pareto counts what the headline counts
    # What it cannot know is said once, with no chart and no zeros.
    for unknown in ("opened-closed", "queues", "after-hours", "charge-lag", "escalations"):
        body = sections[unknown]
        assert "<svg" not in body and "<table" not in body, unknown
        assert body.count('class="empty"') == 1 and NOT_KNOWN in body, unknown
    assert "<svg" not in sections["time-to-close"]
    assert sections["time-to-close"].count('class="empty"') == 1
    for wrong in ("nothing open", "no snapshots in this period", "Nothing open"):
        assert wrong not in html
    cards = dict(re.findall(r'data-key="([^"]+)".*?class="value">([^<]*)<', html))
    assert cards["items_closed"] == "n/a" and cards["escalations"] == "n/a"
    assert data.series("items_opened") == [None] * len(data.days)
