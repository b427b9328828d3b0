"""The go-live cut-off: history an export carries stays off the worklist, and says so."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from chartroute.classify import BEFORE_CUTOFF
from chartroute.config import PracticeConfig
from chartroute.feed_notes import feed_lines, old_visits_warning
from tests import builders as b
from tests.core.rules import verdicts
from tests.core.test_cli import CONFIG, run
from tests.core.test_sync_store import run_sync

OLD = "2019-06-03T09:00:00-04:00"


def history() -> list[dict[str, object]]:
    """Two visits of 2019, one today, each without a signed note."""
    return [
        b.encounter("old1", start=OLD, end=None),
        b.encounter("old2", start="2019-06-04T09:00:00-04:00", end=None),
        b.encounter("e1"),
        b.note("n1", doc_status="preliminary"),
    ]


def test_a_visit_before_the_cut_off_is_not_a_chart(config: PracticeConfig, as_of: datetime) -> None:
    cut = config.with_since(date(2026, 1, 1))
    got = verdicts(history(), cut, as_of)
    assert got["Encounter/old1"].not_chart_reason == BEFORE_CUTOFF
    assert got["Encounter/old1"].is_before_cutoff
    assert got["Encounter/e1"].is_open


def test_the_cut_off_is_midnight_where_the_practice_is(
    config: PracticeConfig, as_of: datetime
) -> None:
    """The example practice is in New York: 23:30 there on the eve is before the cut-off,
    though it is already the next day in UTC."""
    cut = config.with_since(date(2026, 3, 2))
    eve = b.encounter("eve", start="2026-03-01T23:30:00-05:00", end=None)
    morning = b.encounter("morning", start="2026-03-02T00:30:00-05:00", end=None)
    got = verdicts([eve, morning], cut, as_of)
    assert got["Encounter/eve"].is_before_cutoff
    assert got["Encounter/morning"].is_chart


def test_classify_since_prints_no_old_visit_and_counts_them(tmp_path: Path) -> None:
    b.write_ndjson(tmp_path, history())
    args = ("classify", str(tmp_path), "--config", CONFIG, "--as-of", "2026-03-10")
    code, out, err = run(*args, "--format", "jsonl", "--since", "2026-01-01")
    assert code == 0
    assert [json.loads(line)["encounter"] for line in out.splitlines()] == ["Encounter/e1"]
    assert "2 visits before the cut-off (charts.since)" in err
    assert "warning" not in err
    code, out, err = run(*args, "--format", "jsonl")
    assert code == 0
    assert len(out.splitlines()) == 3
    assert "more than a year old" in err and "charts.since" in err


def test_a_bad_since_is_exit_2(tmp_path: Path) -> None:
    b.write_ndjson(tmp_path, history())
    code, _, err = run("classify", str(tmp_path), "--config", CONFIG, "--since", "1/1/2026")
    assert code == 2
    assert "--since" in err


def test_sync_counts_the_cut_off_and_old_charts(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path, history())
    counts = run_sync(engine, tmp_path, config, as_of)
    assert counts.older_than_a_year == 2 and counts.warn_old_visits == 1
    assert old_visits_warning({"older_than_a_year": 2}) is not None
    b.write_ndjson(tmp_path, [*history(), b.encounter("old3", start=OLD, end=None)])
    later = run_sync(engine, tmp_path, config, as_of)
    assert later.older_than_a_year == 1 and later.warn_old_visits == 0  # warned once per store
    (tmp_path / "Encounter.ndjson").touch()
    again = run_sync(engine, tmp_path, config.with_since(date(2026, 1, 1)), as_of)
    assert again.before_cutoff == 3 and again.older_than_a_year == 0
    assert feed_lines({"before_cutoff": 3}) == ["3 visits before the cut-off (charts.since)"]


def test_the_generated_practice_sets_the_cut_off(tmp_path: Path) -> None:
    from chartroute.config import load_config
    from chartroute.generate import GeneratorProfile, generate_practice

    profile = GeneratorProfile(providers=1, days=1, start=date(2026, 3, 2))
    generate_practice(tmp_path, profile)
    assert load_config(tmp_path / "practice.yaml").charts.since == date(2026, 3, 2)
