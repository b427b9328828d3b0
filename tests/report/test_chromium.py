"""The report in headless Chromium (Debian's package): it loads with no console errors and no
request beyond its own file, a screenshot is taken, and the headline numbers are on the page.

Needs /usr/bin/chromium (`apt-get install -y chromium`); skipped without it, except in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chartroute.report.html import render_report, report_filename, write_report
from chartroute.report.model import build_report_data
from tests.report.chromium import CHROMIUM, visit
from tests.report.conftest import Simulation, leaked, phi_strings

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def chromium_installed() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: the test setup installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")


def test_report_renders_cleanly_in_chromium(simulation: Simulation, tmp_path: Path) -> None:
    config = simulation.practice.config
    with simulation.engine.connect() as conn:
        data = build_report_data(conn, config)
    html = render_report(data, {p.id: p.name for p in config.roster})
    page = write_report(html, tmp_path, report_filename(data))

    shot = tmp_path / "report.png"
    result = visit(page.resolve().as_uri(), shot)

    assert result.problems == []
    assert result.requests == [page.resolve().as_uri()]  # nothing fetched beyond the file
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 50_000
    for headline in data.headlines:
        assert headline.label.upper() in result.text.upper()  # the cards show labels in capitals
        assert headline.value in result.text, headline.key
    assert "Where charts get stuck" in result.text
    assert result.html.count("<svg") >= 9  # every chart was parsed into the page
    assert leaked(result.text, phi_strings(simulation.practice.source_dir)) == []


def test_the_check_catches_a_broken_page(tmp_path: Path) -> None:
    """The same check fails a page that logs an error and tries to fetch from elsewhere."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body><p>x</p>"
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("broken")</script>'
        "</body></html>"
    )
    result = visit(page.resolve().as_uri(), tmp_path / "broken.png")
    assert "broken" in result.console_errors
    assert any("Content Security Policy" in e for e in result.log_errors)
    assert "http://127.0.0.1:9/x.png" in result.requests
