"""``chartroute simulate``: manual chasing against routing on a simulated practice, day by day.

Routed days run the real ``chartroute-sync`` and ``chartroute-escalate`` flows through Prefect
(``--no-prefect`` runs the same stages in this process); manual chasing needs no pipeline and
runs in this process. ``--policy both`` (the default) runs both for every seed and writes the
comparison: ``simulation.md`` (tables) and ``simulation.html`` (tables and charts).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.options import parse_day
from chartroute.simulate import SimAssumptions, SimSettings, simulate
from chartroute.simulate.metrics import DayRow, RunSummary
from chartroute.simulate.pipeline import (
    SIM_DATABASE_ENV,
    StagePipeline,
    StoreNotEmpty,
    fresh_store,
    sim_database_url,
)
from chartroute.simulate.run import InvariantViolation, RunResult
from chartroute.store.engine import home

err = Console(stderr=True)
POLICY_CHOICES = ("manual", "routed", "both")


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the CLI."""
    app.command("simulate")(simulate_command)


def parse_assumptions(pairs: list[str]) -> SimAssumptions:
    """``name=value`` overrides of the default assumptions, validated like the YAML config."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--set {pair!r}: expected name=value")
        if name.strip() not in SimAssumptions.model_fields:
            known = ", ".join(SimAssumptions.model_fields)
            raise BadInput(f"--set {name.strip()}: unknown assumption (known: {known})")
        values[name.strip()] = value.strip()
    try:
        return SimAssumptions.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise BadInput(f"--set: {problems}") from None


def refuse_all_warmup(days: int, assumptions: SimAssumptions) -> None:
    """Refuse a run whose every day is warm-up.

    The averages leave the warm-up days out; with nothing after them, the summary would
    average the warm-up after all while the page says it does not, and the charge lag would
    read from one day's visits beside a daily table that disagrees.
    """
    if days <= assumptions.warmup_days:
        raise BadInput(
            f"--days {days} is not longer than warmup_days {assumptions.warmup_days}: "
            "the warm-up days are left out of the averages, so nothing would be left to "
            f"average; simulate more than {assumptions.warmup_days} days or lower it with "
            f"--set warmup_days=N (N below {days})"
        )


def simulate_command(
    days: int = typer.Option(20, "--days", min=1, max=400, help="Clinic days to simulate."),
    providers: int = typer.Option(5, "--providers", min=1, max=200, help="Clinicians."),
    policy: str = typer.Option("both", "--policy", help="manual, routed, or both (compare)."),
    seeds: list[int] = typer.Option([1], "--seed", help="Seed; repeat for several practices."),
    start: str = typer.Option("2026-01-05", "--start", help="First clinic day (YYYY-MM-DD)."),
    assume: list[str] = typer.Option(
        [], "--set", help="Override an assumption, e.g. --set chase_minutes=5 (repeatable)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for the run's files."),
    sensitivity: bool = typer.Option(
        False, "--sensitivity", help="Also run the sensitivity grid (in this process; slow)."
    ),
    no_prefect: bool = typer.Option(
        False, "--no-prefect", help="Run the routed pipeline's stages here, without Prefect."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Simulate a practice day by day: does routing cut the clinicians' own backlog?"""
    with exit_codes(bad_input=(StoreNotEmpty,), failure=(InvariantViolation,)):
        if policy not in POLICY_CHOICES:
            raise BadInput(f"--policy: {policy!r} is not manual, routed or both")
        first = parse_day("--start", start)
        assumptions = parse_assumptions(assume)
        refuse_all_warmup(days, assumptions)
        if len(set(seeds)) != len(seeds):
            raise BadInput("--seed: each seed once")
        if os.environ.get(SIM_DATABASE_ENV) and len(seeds) * (2 if policy == "both" else 1) > 1:
            raise BadInput(f"{SIM_DATABASE_ENV} holds one run's store: simulate one seed")
        folder = (out or home() / "simulation").resolve()
        policies = ("manual", "routed") if policy == "both" else (policy,)
        results: list[RunResult] = []
        for seed in seeds:
            settings = SimSettings(providers, days, seed, first, assumptions)
            for one in policies:
                err.print(f"simulating {one}, seed {seed}: {providers} clinicians, {days} days")
                result = run_one(settings, one, folder / f"seed-{seed}", no_prefect)
                results.append(result)
                _print_summary(result.summary)
        if as_json:
            typer.echo(orjson.dumps([r.summary.as_dict() for r in results]).decode())
        elif policy != "both":
            for result in results:
                Console().print(days_table(result))
        if policy == "both":
            cells = (
                _sensitivity(folder, providers, days, seeds, first, assumptions)
                if sensitivity
                else []
            )
            written = write_comparison(folder, results, assumptions, cells)
            err.print(f"comparison: {written['markdown']} and {written['html']}")


def run_one(settings: SimSettings, policy: str, workdir: Path, no_prefect: bool) -> RunResult:
    """One policy on one practice; routed through the Prefect flows unless ``no_prefect``."""
    if policy == "manual":
        return simulate(settings, "manual", workdir / "manual")
    if no_prefect:
        url = sim_database_url(workdir / "routed")
        (workdir / "routed").mkdir(parents=True, exist_ok=True)
        engine = fresh_store(url)
        try:
            return simulate(
                settings, "routed", workdir / "routed",
                lambda ehr, cfg: StagePipeline(engine, ehr, _config(cfg)),
            )  # fmt: skip
        finally:
            engine.dispose()
    from chartroute.flows.run_tags import tagged
    from chartroute.flows.simulate import simulate_flow

    with tagged(None):  # a generated practice, not one whose runs anyone watches by name
        returned = simulate_flow(
            days=settings.days, providers=settings.providers, policy="routed",
            seed=settings.seed, start=settings.start, out=str(workdir),
            assumptions=settings.assumptions,
        )  # fmt: skip
    rows = [DayRow(**row) for row in returned["days"]]
    return RunResult(settings, "routed", rows, RunSummary(**returned["summary"]))


def _config(path: Path) -> Any:
    from chartroute.config import load_config

    return load_config(path)


def _sensitivity(
    folder: Path,
    providers: int,
    days: int,
    seeds: list[int],
    first: date,
    assumptions: SimAssumptions,
) -> list[Any]:
    from chartroute.simulate.sensitivity import grid, run_sensitivity

    base = SimSettings(providers, days, seeds[0], first, assumptions)
    where = folder / "sensitivity"
    total = len(grid(base))
    engines: list[Any] = []

    def pipeline(ehr: Path, cfg: Path) -> StagePipeline:
        db = ehr.parent / "simulation.db"
        engine = fresh_store(f"sqlite:///{db}")
        engines.append(engine)
        return StagePipeline(engine, ehr, _config(cfg))

    try:
        return run_sensitivity(
            base, where, pipeline,
            progress=lambda done, _: err.print(f"sensitivity: {done}/{total} cells"),
            seeds=seeds,
        )  # fmt: skip
    finally:
        for engine in engines:
            engine.dispose()


def write_comparison(
    folder: Path, results: list[RunResult], assumptions: SimAssumptions, cells: list[Any]
) -> dict[str, Path]:
    """The headline table (mean and spread over seeds), each seed's days, and the HTML."""
    from chartroute.simulate.compare import (
        daily_markdown,
        headline,
        headline_markdown,
        sensitivity_markdown,
    )
    from chartroute.simulate.report import write_html

    pairs = [
        (m, r)
        for m in results
        for r in results
        if m.policy == "manual" and r.policy == "routed" and m.settings.seed == r.settings.seed
    ]
    rows = headline(pairs)
    seeds = [m.settings.seed for m, _ in pairs]
    parts = ["# Simulation: manual chasing against routing", "", headline_markdown(rows, seeds)]
    if cells:
        parts += ["", "## Sensitivity", "", sensitivity_markdown(cells)]
    for manual, routed in pairs:
        parts += ["", f"## Days, seed {manual.settings.seed}", "", daily_markdown(manual, routed)]
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / "simulation.md"
    markdown.write_text("\n".join(parts) + "\n", encoding="utf-8")
    html = write_html(folder / "simulation.html", pairs, rows, assumptions, cells)
    return {"markdown": markdown, "html": html}


def days_table(result: RunResult) -> Table:
    """One policy's days: the figures the comparison reads, and the checks."""
    table = Table(title=f"{result.policy}, seed {result.settings.seed}")
    for name in ("day", "clinicians' backlog", "open charts", "after-hours min", "chase min",
                 "closed", "charge lag d", "invariant", "mismatched"):  # fmt: skip
        table.add_column(name, justify="left" if name == "day" else "right", no_wrap=name == "day")
    for row in result.rows:
        lag = "" if row.charge_lag_days is None else f"{row.charge_lag_days:.2f}"
        table.add_row(
            row.day, str(row.clinician_backlog), str(row.open_charts),
            f"{row.after_hours_minutes:.0f}", f"{row.chase_minutes:.0f}", str(row.charts_closed),
            lag, "ok" if row.invariant_checked and not row.clinical_to_staff else "VIOLATED",
            str(row.mismatched),
        )  # fmt: skip
    return table


def _print_summary(summary: RunSummary) -> None:
    err.print(
        f"  {summary.policy}: clinicians' backlog {summary.clinician_backlog:.1f} charts, "
        f"open charts {summary.open_charts:.1f}, after-hours "
        f"{summary.after_hours_per_clinician:.1f} min/clinician/day, charge lag "
        f"{summary.charge_lag_days:.2f} days"
    )
