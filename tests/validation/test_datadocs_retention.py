"""Data Docs keep the newest runs only: every run rebuilds the site's index from every result
it finds, so an unbounded site made each scheduled sync slower than the last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from chartroute.validation.datadocs import PAGES_FOLDER, RESULTS_FOLDER, prune_runs, write_data_docs
from chartroute.validation.feed import check_label
from chartroute.validation.suites import default_suites_dir, load_suites

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def fake_run(folder: Path, name: str, stamp: str, tables: tuple[str, ...]) -> None:
    for tree, suffix in ((RESULTS_FOLDER, "json"), (PAGES_FOLDER, "html")):
        for table in tables:
            place = folder / tree / table / name / stamp
            place.mkdir(parents=True)
            (place / f"{table}-{name}.{suffix}").write_text("{}")


def runs_left(folder: Path) -> set[str]:
    return {p.name for tree in (RESULTS_FOLDER, PAGES_FOLDER) for p in folder.glob(f"{tree}/*/*")}


def test_the_newest_runs_are_kept_by_run_time_not_by_name(tmp_path: Path) -> None:
    fake_run(tmp_path, "zz-oldest", "20260301T080000.000000Z", ("encounters", "notes"))
    fake_run(tmp_path, "aa-newest", "20260303T080000.000000Z", ("encounters",))
    fake_run(tmp_path, "mm-middle", "20260302T080000.000000Z", ("notes", "orders"))
    assert prune_runs(tmp_path, 5) == 0 and len(runs_left(tmp_path)) == 3
    assert prune_runs(tmp_path, 2) == 1
    assert runs_left(tmp_path) == {"aa-newest", "mm-middle"}
    assert not list(tmp_path.rglob("*zz-oldest*"))
    assert prune_runs(tmp_path, 1) == 1 and runs_left(tmp_path) == {"aa-newest"}


def test_an_empty_or_new_folder_prunes_nothing(tmp_path: Path) -> None:
    assert prune_runs(tmp_path / "not-yet", 1) == 0


def test_a_run_keeps_its_own_pages_and_the_newest_before_it(tmp_path: Path) -> None:
    suites = load_suites(default_suites_dir())
    checks = {
        check_label(s.table, e.reason): {"checked": 10, "failed": 0}
        for s in suites
        for e in s.expectations
    }
    for n in range(4):
        write_data_docs(tmp_path, f"run-{n}", T0 + timedelta(hours=n), suites, checks, keep_runs=2)
    assert runs_left(tmp_path) == {"run-2", "run-3"}
    index = (tmp_path / "index.html").read_text()
    assert "run-3" in index and "run-2" in index
    assert "run-0" not in index and "run-1" not in index
