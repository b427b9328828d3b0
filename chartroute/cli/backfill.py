"""``chartroute backfill --start D --end D [--source S] [--force]``: reconstruct past days.

Without ``--source`` it reads the charts the store already holds (synced or loaded before).
A partition done over the same store is skipped; one whose store changed since, or every one
with ``--force``, is done again. A range where the store holds no encounter exits 2.

Runs the backfill flow through Prefect on the task runner the config chooses, and draws a
progress bar from the partition ledger (which every worker writes, wherever it runs).
``--no-prefect`` runs the same stages in this process, for a laptop or a benchmark.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from chartroute.backfill.coverage import NothingToBackfill
from chartroute.backfill.ledger import backfill_for, completed_partitions
from chartroute.backfill.partitions import plan_partitions
from chartroute.backfill.run import LoadResult
from chartroute.backfill.sequence import (
    BackfillHere,
    BackfillPlan,
    BackfillRequest,
    BackfillSummary,
    run_backfill_stages,
)
from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.options import SINCE_HELP, config_option, not_empty, parse_day
from chartroute.config import PracticeConfig, load_config
from chartroute.sources import is_url_spec, open_source
from chartroute.store.engine import make_engine

STORE_SOURCE = "store"
err = Console(stderr=True)
_COLUMNS = (TextColumn("partitions"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def register(app: typer.Typer) -> None:
    """Add the ``backfill`` command to the CLI."""
    app.command("backfill")(backfill)


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def backfill(
    start: str = typer.Option(..., "--start", help="First encounter start day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day backfilled, inclusive (YYYY-MM-DD)."),
    source: str | None = typer.Option(
        None,
        "--source",
        help="Historical export to load first (folder, FHIR URL or bulk+URL); "
        "without it, backfill the charts already in the store.",
        callback=not_empty,
    ),
    config: str = config_option(),
    partition_days: int | None = typer.Option(
        None, "--partition-days", min=1, max=366, help="Days per partition (default: config)."
    ),
    runner: str | None = typer.Option(
        None, "--runner", help="threads, processes or dask (default: config)."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, max=256),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan and count; write nothing."),
    force: bool = typer.Option(
        False, "--force", help="Redo every partition, even those done over the same store."
    ),
    no_prefect: bool = typer.Option(
        False, "--no-prefect", help="Run the stages in this process, without Prefect."
    ),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
) -> None:
    """Backfill historical charts: reconstructed backlog snapshots for every past day."""
    with exit_codes():
        cut_off = parse_day("--since", since)
        cfg = load_config(config).with_since(cut_off)
        first, last = _day("--start", start), _day("--end", end)
        if last < first:
            raise BadInput(f"--end {last} is before --start {first}")
        if runner is not None and runner not in ("threads", "processes", "dask"):
            raise BadInput(f"--runner: {runner!r} is not threads, processes or dask")
        if source is not None and not is_url_spec(source) and not Path(source).is_dir():
            raise BadInput(f"--source: folder not found: {source}")
        days = partition_days or cfg.backfill.partition_days
        name = backfill_for(cfg, first, last, days)
        total = len(plan_partitions(first, last, days))
    request = BackfillRequest(
        first, last, days, load=source is not None, dry_run=dry_run, force=force
    )
    with exit_codes(bad_input=(NothingToBackfill,)):
        if no_prefect:
            result = _run_here(source, cfg, request)
        else:
            result = _with_progress(name, total, lambda: _run_flow(
                source, config, request, runner, workers, cfg.practice.name, cut_off
            ))  # fmt: skip
    redone = f", {result.redone} redone" if result.redone else ""
    err.print(
        f"backfill {result.backfill_id}: {result.partitions} partitions "
        f"({result.skipped} already done{redone}), {result.encounters} encounters; "
        + ("dry run, nothing written" if dry_run else f"snapshots for {result.snapshot_days} days")
    )


def _run_flow(
    source: str | None,
    config: str,
    request: BackfillRequest,
    runner: str | None,
    workers: int | None,
    practice: str,
    since: date | None = None,
) -> BackfillSummary:
    """The flow, tagged for the failure alert (in the thread that starts it: tags are a
    context variable, which a new thread does not inherit)."""
    from chartroute.cli.prefect_server import use_for_flows

    use_for_flows()  # before Prefect is imported: the environment's, the home's, or temporary
    from chartroute.flows.backfill import run_backfill
    from chartroute.flows.run_tags import tagged

    with tagged(practice):
        return run_backfill(
            source or STORE_SOURCE, request.start, request.end, config=config,
            partition_days=request.partition_days, dry_run=request.dry_run, load=request.load,
            runner=runner, workers=workers, force=request.force, since=since,
        )  # fmt: skip


def _with_progress(name: str, total: int, work: Callable[[], BackfillSummary]) -> BackfillSummary:
    """Run ``work`` in a thread and draw the ledger's completed partitions as a bar."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # re-raised below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="backfill-flow", daemon=True)
    engine = make_engine()
    with Progress(*_COLUMNS, console=err, transient=False) as bar:
        job = bar.add_task("backfill", total=total)
        thread.start()
        while thread.is_alive():
            thread.join(0.5)
            with engine.connect() as conn:
                bar.update(job, completed=len(completed_partitions(conn, name)))
    if "error" in outcome:
        raise outcome["error"]
    result: BackfillSummary = outcome["result"]
    return result


class _HereWithProgress(BackfillHere):
    """The in-process stages, telling the user what the load did and drawing partitions."""

    def __init__(self, bar: Progress, engine: Engine, cfg: PracticeConfig, spec: str | None):
        job = bar.add_task("backfill", total=None)
        super().__init__(
            engine, cfg, None, datetime.now(UTC), on_partition=lambda _: bar.advance(job)
        )
        self.bar = bar
        self.job = job
        self.spec = spec

    def load(self) -> LoadResult:
        began = time.perf_counter()
        if self.spec is not None:
            self.source = open_source(self.spec, self.config)
        loaded = super().load()
        err.print(
            f"loaded {loaded.read} records ({loaded.quarantined} quarantined), indexed "
            f"{loaded.indexed} encounters in {time.perf_counter() - began:.1f} s"
        )
        return loaded

    def index(self) -> int:
        indexed = super().index()
        err.print(f"reading the store: indexed {indexed} new or changed encounters")
        return indexed

    def plan(self, request: BackfillRequest) -> BackfillPlan:
        plan = super().plan(request)
        self.bar.update(self.job, total=len(plan.partitions), completed=len(plan.completed))
        return plan


def _run_here(source: str | None, cfg: PracticeConfig, request: BackfillRequest) -> BackfillSummary:
    """The flow's stage sequence in this process, with a progress bar."""
    with Progress(*_COLUMNS, console=err) as bar:
        return run_backfill_stages(_HereWithProgress(bar, make_engine(), cfg, source), request)
