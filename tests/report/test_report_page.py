"""The report page of a simulated practice: self-contained, its headline numbers on the page and
consistent with the store, and no patient data in the page, the artifacts or the ROI."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from chartroute.analytics.roi import compute_roi
from chartroute.analytics.roi_render import roi_json, roi_text
from chartroute.report.html import render_report, report_filename, write_report
from chartroute.report.markdown import headline_markdown, headline_rows
from chartroute.report.model import ReportData, build_report_data
from chartroute.store.snapshots import read_snapshots
from chartroute.summary import backlog_summary
from tests.report.conftest import Simulation, leaked, phi_strings

SECTIONS = (
    "backlog-trend",
    "clinician-backlog",
    "opened-closed",
    "aging",
    "pareto",
    "queues",
    "time-to-close",
    "after-hours",
    "charge-lag",
    "escalations",
    "review",
)


@pytest.fixture(scope="module")
def report(simulation: Simulation) -> tuple[ReportData, Path, str]:
    config = simulation.practice.config
    with simulation.engine.connect() as conn:
        data = build_report_data(conn, config)
    people = {p.id: p.name for p in config.roster}
    html = render_report(data, people)
    path = write_report(html, simulation.workdir / "reports", report_filename(data))
    return data, path, html


def test_the_page_is_self_contained(report: tuple[ReportData, Path, str]) -> None:
    _data, path, html = report
    assert path.read_text(encoding="utf-8") == html
    assert 'http-equiv="Content-Security-Policy"' in html
    assert "default-src 'none'" in unescape(html)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert re.search(r"<svg[^>]*xmlns=\"http://www.w3.org/2000/svg\"", html)
    for section in SECTIONS:
        assert f'id="{section}"' in html, section


def test_headline_numbers_are_on_the_page_and_match_the_store(
    simulation: Simulation, report: tuple[ReportData, Path, str]
) -> None:
    data, _path, html = report
    assert len(data.stored) == len(simulation.practice.evenings) == 8
    with simulation.engine.connect() as conn:
        summary = backlog_summary(conn)  # computed independently of the snapshot code
    values = {h.key: h.value for h in data.headlines}
    assert values["open_charts"] == f"{summary.open_charts:,}"
    assert values["clinician_backlog"] == f"{summary.charts_on_clinicians:,}"
    assert summary.open_charts > 0 and summary.charts_on_clinicians < summary.open_charts
    for headline in data.headlines:
        assert f'data-key="{headline.key}"' in html
        assert f'<div class="value">{headline.value}</div>' in html
    signed = data.window_total("notes_signed")
    after = data.window_total("notes_signed_after_hours")
    assert 0 < after < signed  # the generator signs a share of notes in the evening
    assert values["after_hours_share"] == f"{after / signed:.0%}"


def test_no_patient_data_in_page_artifacts_or_roi(
    simulation: Simulation, report: tuple[ReportData, Path, str]
) -> None:
    data, path, html = report
    phi = phi_strings(simulation.practice.source_dir)
    assert len(phi) > 100  # names, birth dates, diagnoses, note text were found to look for
    markdown = headline_markdown(data, path)
    table = json.dumps(headline_rows(data))
    config = simulation.practice.config
    with simulation.engine.connect() as conn:
        roi = compute_roi(read_snapshots(conn), config.roi, config.billing)
    outputs = {
        "page": html,
        "markdown artifact": markdown,
        "table artifact": table,
        "roi text": roi_text(roi),
        "roi json": json.dumps(roi_json(roi)),
    }
    for name, text in outputs.items():
        assert leaked(text, phi) == [], name
    assert path.resolve().as_uri() in markdown


def test_report_range_and_gaps(simulation: Simulation) -> None:
    from datetime import date

    config = simulation.practice.config
    with simulation.engine.connect() as conn:
        data = build_report_data(conn, config, date(2026, 3, 5), date(2026, 3, 10))
        with pytest.raises(ValueError, match="after"):
            build_report_data(conn, config, date(2026, 3, 10), date(2026, 3, 5))
    assert data.days[0] == date(2026, 3, 5) and len(data.days) == 6
    series = data.series("open_charts")
    assert series[2] is None and series[3] is None  # Saturday and Sunday: no sync, no snapshot
    assert all(v is not None for i, v in enumerate(series) if i not in (2, 3))
