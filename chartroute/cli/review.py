"""``chartroute review sample | import | report``: measure the classification before going live.

``sample`` draws a sheet of chartroute's decisions from the store for the ops lead to check
against the EHR; ``import`` stores the verdicts written on it; ``report`` prints each
category's precision with its Wilson interval and whether it is ready (docs/go-live.md).
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.options import config_option
from chartroute.cli.practice_home import reading_store
from chartroute.cli.render import records_table
from chartroute.config import load_config

review_app = typer.Typer(
    help="Review a sample of chartroute's decisions and measure its accuracy per category.",
    no_args_is_help=True,
)

out = Console()
err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


@review_app.command("sample")
def sample(
    size: int = typer.Option(
        ..., "--size", min=1, help="Blockers drawn per category, and closed charts drawn."
    ),
    out_file: Path = typer.Option(
        ..., "--out", help="The sheet: FILE.csv to fill, FILE.html to read."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Draw the same sample again."),
    config: str = config_option(),
) -> None:
    """Write a review sheet: a row per (chart, blocker), stratified by category and clinician,
    plus closed charts; ids and EHR links only."""
    from chartroute.report.html import write_report
    from chartroute.report.review import review_sheet_page
    from chartroute.review.sample import draw_sample
    from chartroute.review.sheet import sheet_csv

    with exit_codes():
        cfg = load_config(config)
        kind = out_file.suffix.lower()
        if kind not in (".csv", ".html"):
            raise BadInput(f"--out: {out_file} must end in .csv (to fill) or .html (to read)")
        seed = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
        with reading_store().connect() as conn:
            rows = draw_sample(conn, cfg, size, seed)
        if kind == ".csv":
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(sheet_csv(rows), encoding="utf-8")
        else:
            page = review_sheet_page(rows, cfg.practice.name, seed)
            write_report(page, out_file.parent, out_file.name)
    charts = len({r.chart for r in rows})
    err.print(f"wrote {len(rows)} rows on {charts} charts to {out_file} (seed {seed})")
    if not rows:
        err.print("the store holds no classified chart yet: run `chartroute sync` first")
        return
    err.print(
        f"`--seed {seed}` draws the same sample again (e.g. as .html to read, .csv to fill); "
        f"fill `verdict` and run `chartroute review import {out_file.with_suffix('.csv')}`"
    )


@review_app.command("import")
def import_sheet(
    sheet: Path = typer.Argument(..., help="A filled review sheet (CSV)."),
) -> None:
    """Store the verdicts of a filled sheet; importing it again changes nothing."""
    from chartroute.review.sheet import SheetError, read_sheet
    from chartroute.review.verdicts import import_verdicts
    from chartroute.store.engine import make_engine

    with exit_codes(bad_input=(SheetError,)):
        rows = read_sheet(sheet)
        with make_engine().begin() as conn:
            counts = import_verdicts(conn, rows, datetime.now(UTC), str(sheet))
    err.print(
        f"{sheet}: {counts.rows} verdicts: {counts.added} new, {counts.changed} changed, "
        f"{counts.unchanged} unchanged; {counts.blank} rows not reviewed yet"
    )


@review_app.command("report")
def report(
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help="table or json."),
    config: str = config_option(),
) -> None:
    """Per category: reviewed, precision with its 95% Wilson interval, misses, ready."""
    from chartroute.report.review import ACCURACY_HEADERS, accuracy_cells, wrong_lines
    from chartroute.review.accuracy import accuracy_json, measure_store

    with exit_codes():
        cfg = load_config(config)
        with reading_store().connect() as conn:
            accuracy = measure_store(conn, cfg.review)
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(accuracy_json(accuracy), indent=2) + "\n")
        return
    verdict = "ready to go live" if accuracy.ready else "not ready to go live yet"
    rows = [
        dict(zip(ACCURACY_HEADERS, accuracy_cells(r), strict=True)) for r in accuracy.categories
    ]
    records_table(out, f"classification accuracy: {verdict}", ACCURACY_HEADERS, rows)
    for row in accuracy.categories:
        for line in wrong_lines(row):
            out.print(f"{row.category}: most often wrong {line}")
    err.print(
        f"ready: lower end of the 95% interval >= {accuracy.min_precision:.2f} over at least "
        f"{accuracy.min_reviewed} reviews (review.min_precision, review.min_reviewed)"
    )


def register(app: typer.Typer) -> None:
    """Add ``review`` to the ``chartroute`` command."""
    app.add_typer(review_app, name="review")
