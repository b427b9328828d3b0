"""``chartroute review sample | import | report`` as the ops lead runs them."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.review.sheet import COLUMNS, SheetRow, read_sheet, sheet_csv
from chartroute.store.engine import make_engine
from tests.golive.conftest import Practice, fill_from_truth
from tests.notify.conftest import run_sync


@pytest.fixture(scope="module")
def synced_file(tmp_path_factory: pytest.TempPathFactory, practice: Practice) -> Path:
    """The practice synced once into a SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("review-store") / "synced.db"
    engine = make_engine(f"sqlite:///{path}")
    run_sync(engine, practice.config, practice.folder, practice.summary.as_of)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def store_url(tmp_path: Path, synced_file: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    copy = tmp_path / "review.db"
    shutil.copyfile(synced_file, copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    return url


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def config_of(practice: Practice) -> str:
    return str(practice.folder / "practice.yaml")


def test_sample_import_report_round_trip(
    store_url: str, practice: Practice, tmp_path: Path
) -> None:
    sheet = tmp_path / "week1.csv"
    code, _, said = invoke(
        "review",
        "sample",
        "--size",
        "40",
        "--seed",
        "7",
        "--out",
        str(sheet),
        "--config",
        config_of(practice),
    )
    assert code == 0 and "seed 7" in said
    rows = read_sheet(sheet)
    filled = fill_from_truth(practice, rows)  # as a spreadsheet's autocorrect may leave it:
    filled = [replace(r, verdict=r.verdict.capitalize()) for r in filled]
    sheet.write_text(sheet_csv(filled), encoding="utf-8")

    code, _, said = invoke("review", "import", str(sheet))
    assert code == 0 and f"{len(rows)} verdicts: {len(rows)} new" in said
    code, _, said = invoke("review", "import", str(sheet))
    assert code == 0 and f"0 new, 0 changed, {len(rows)} unchanged" in said

    code, out, _ = invoke("review", "report", "--format", "json", "--config", config_of(practice))
    report = json.loads(out)
    assert code == 0 and report["min_precision"] == 0.9 and report["min_reviewed"] == 20
    assert {c["category"] for c in report["categories"]} >= {"unsigned-note", "none"}
    assert all(c["precision"] == 1.0 and c["misses"] == 0 for c in report["categories"])
    for c in report["categories"]:
        assert c["ready"] == (c["reviewed"] >= 35), c  # 35 correct reach 0.90, 34 do not
    code, out, said = invoke("review", "report", "--config", config_of(practice))
    assert code == 0 and "classification accuracy" in said and "interval" in out


def test_the_html_sheet_is_the_same_sample_with_links(
    store_url: str, practice: Practice, tmp_path: Path
) -> None:
    args = ["review", "sample", "--size", "3", "--seed", "5", "--config", config_of(practice)]
    assert invoke(*args, "--out", str(tmp_path / "s.csv"))[0] == 0
    assert invoke(*args, "--out", str(tmp_path / "s.html"))[0] == 0
    page = (tmp_path / "s.html").read_text()
    rows = read_sheet(tmp_path / "s.csv")
    assert rows and all(r.chart in page and r.link in page for r in rows)
    assert "<script" not in page and "Content-Security-Policy" in page
    code, _, said = invoke(*args, "--out", str(tmp_path / "s.xlsx"))
    assert code == 2 and "--out" in said


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "row", "column"),
    [
        ({"verdict": "corect"}, 3, "verdict"),
        ({"category": "unsigned"}, 3, "category"),
        ({"chart": "enc-1"}, 3, "chart"),
        ({"chart": "Encounter/not-in-the-store"}, 3, "chart"),
        ({"evidence": "note-that-is-not-a-subject"}, 3, "evidence"),
        (
            {"verdict": "wrong", "correct_category": "", "category": "none"},
            3,
            "correct_category",
        ),
        ({"verdict": "missing", "category": "none"}, 3, "category"),
    ],
)
def test_a_bad_row_exits_2_naming_the_row_and_the_column(
    store_url: str,
    practice: Practice,
    tmp_path: Path,
    change: dict[str, str],
    row: int,
    column: str,
) -> None:
    rows = read_sheet(_sample(practice, tmp_path))
    note = next(r for r in rows if r.category == "unsigned-note")
    cells = dict(
        zip(
            COLUMNS,
            SheetRow(note.chart, note.category, evidence=note.evidence, verdict="correct").cells(),
            strict=True,
        )
    )
    if change.get("category") == "none" and "correct_category" in change:
        closed = next(r for r in rows if r.category == "none")
        cells["chart"] = closed.chart
    cells.update(change)
    good = SheetRow(note.chart, note.category, evidence=note.evidence, verdict="correct")
    path = _write(tmp_path / "bad.csv", list(COLUMNS), [list(good.cells()), list(cells.values())])

    code, _, said = invoke("review", "import", str(path))
    assert code == 2, said
    assert f"{path}: row {row}, column {column}:" in said
    with make_engine(store_url).connect() as conn:
        from sqlalchemy import func, select

        from chartroute.store.schema import review_verdict

        assert conn.execute(select(func.count()).select_from(review_verdict)).scalar() == 0


def _sample(practice: Practice, tmp_path: Path) -> Path:
    sheet = tmp_path / "s.csv"
    args = ["review", "sample", "--size", "2", "--seed", "1", "--config", config_of(practice)]
    assert invoke(*args, "--out", str(sheet))[0] == 0
    return sheet


def test_a_bad_header_or_a_missing_file_exits_2(store_url: str, tmp_path: Path) -> None:
    header = [c if c != "verdict" else "verdcit" for c in COLUMNS]
    path = _write(tmp_path / "typo.csv", header, [])
    code, _, said = invoke("review", "import", str(path))
    assert code == 2 and "row 1, column verdcit: unknown column" in said
    code, _, said = invoke("review", "import", str(tmp_path / "absent.csv"))
    assert code == 2 and "absent.csv" in said
