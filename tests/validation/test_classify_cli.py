"""``chartroute classify`` on a feed with bad records: good charts exactly as without them,
bad records on stderr, and the bad-share threshold (exit 2 above it)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chartroute.cli.main import app
from tests import builders as b
from tests.validation.corpus import BROKEN, write_feed
from tests.validation.helpers import PRACTICE

AS_OF = "2026-03-10"


def classify(folder: Path, config: Path = PRACTICE) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        ["classify", str(folder), "--config", str(config), "--as-of", AS_OF, "--format", "jsonl"],
    )
    return result.exit_code, result.stdout, result.stderr


def lenient_config(tmp_path: Path, share: float) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(PRACTICE.read_text() + f"\nvalidation:\n  max_bad_share: {share}\n")
    return path


def test_good_charts_print_exactly_as_without_the_bad_records(tmp_path: Path) -> None:
    where = write_feed(tmp_path / "mixed")
    write_feed(tmp_path / "clean", broken=[])
    config = lenient_config(tmp_path, 0.9)
    code, mixed, err = classify(tmp_path / "mixed", config)
    clean_code, clean, clean_err = classify(tmp_path / "clean", config)
    assert code == 0 and clean_code == 0
    assert mixed == clean and [json.loads(x) for x in mixed.splitlines()]
    for bad in BROKEN:
        assert f"bad record at {where[bad.name]}: " in err, bad.name
    assert "warning: " in err and "bad record" not in clean_err


def _feed(folder: Path, good: int, bad: int) -> None:
    records = [b.encounter(f"g{i:03d}") for i in range(good)]
    records += [b.encounter(f"b{i:03d}", status="closed") for i in range(bad)]
    b.write_ndjson(folder, records)


def test_just_below_the_threshold_passes_with_a_warning(tmp_path: Path) -> None:
    _feed(tmp_path, good=96, bad=4)  # 4% < 5%
    code, out, err = classify(tmp_path)
    assert code == 0
    assert len(out.splitlines()) == 96  # every good chart is open (no notes): all printed
    assert "warning: 4 of 100 records quarantined (4.00%)" in err
    assert "status: not in the FHIR R4 encounter-status value set (4)" in err


def test_exactly_at_the_threshold_still_passes(tmp_path: Path) -> None:
    _feed(tmp_path, good=95, bad=5)
    code, out, _ = classify(tmp_path)
    assert code == 0 and len(out.splitlines()) == 95


def test_just_above_the_threshold_fails_loudly_with_exit_2(tmp_path: Path) -> None:
    _feed(tmp_path, good=94, bad=6)  # 6% > 5%
    code, out, err = classify(tmp_path)
    assert code == 2
    assert out == ""
    assert (
        "error: classify stopped: 6 of 100 records quarantined (6.00%); "
        "limit validation.max_bad_share = 5.00%" in err
    )


def test_a_broken_suite_file_is_bad_input(tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "encounters.yaml").write_text(
        "expectations:\n  - type: expect_column_values_to_not_be_null\n"
        "    kwargs: {column: colour}\n    meta: {reason: 'colour: missing'}\n"
    )
    config = tmp_path / "practice.yaml"
    config.write_text(PRACTICE.read_text() + f"\nvalidation:\n  suites_dir: {suites}\n")
    _feed(tmp_path / "feed", good=2, bad=0)
    code, out, err = classify(tmp_path / "feed", config)
    assert code == 2 and out == ""
    assert f"{suites / 'encounters.yaml'}: expectation 1" in err and "'colour'" in err


def test_a_large_bad_feed_prints_twenty_lines_and_a_count(tmp_path: Path) -> None:
    _feed(tmp_path, good=940, bad=60)  # 6%: above the limit
    code, _, err = classify(tmp_path)
    assert code == 2
    assert err.count("bad record at ") == 20
    assert "... and 40 more bad records (60 in all)" in err


def test_classify_does_not_send_the_user_to_an_empty_quarantine(tmp_path: Path) -> None:
    """classify stores nothing, so `chartroute quarantine` would show none of its bad records."""
    _feed(tmp_path, good=94, bad=6)
    code, _, err = classify(tmp_path)
    assert code == 2 and "chartroute quarantine" not in err
    assert "its bad records are listed above" in " ".join(err.split())
