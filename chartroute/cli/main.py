"""``chartroute``: generate, classify, sync, worklist, config check, demo."""

from __future__ import annotations

import os
import sys
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console

from chartroute.cli.alerts import register as register_alerts_commands
from chartroute.cli.backfill import register as register_backfill_command
from chartroute.cli.config_diff import register as register_config_diff_command
from chartroute.cli.deployments import register as register_deployments_commands
from chartroute.cli.errors import BadInput, exit_codes, set_debug
from chartroute.cli.options import config_option, not_empty, parse_as_of, parse_day
from chartroute.cli.outbox import register as register_outbox_commands
from chartroute.cli.progress import reading_progress
from chartroute.cli.quarantine import register as register_quarantine_command
from chartroute.cli.render import records_table, summary_tables
from chartroute.cli.report import register as register_report_commands
from chartroute.cli.review import register as register_review_commands
from chartroute.cli.serve import register as register_serve_command
from chartroute.cli.simulate import register as register_simulate_command
from chartroute.cli.sweep import register as register_sweep_command
from chartroute.config import load_config
from chartroute.config.loader import config_json_schema
from chartroute.store.engine import database_url, home, make_engine

# Prefect's temporary server would try to send usage telemetry over the network; chartroute
# runs on loopback only.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary server's first start on a fresh machine (creating its database) was seen to take
# longer than Prefect's 20 s default, which failed the README's first command; give it time.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    help="Routes open primary-care charts to the person who can close them.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(
    debug: bool = typer.Option(
        False, "--debug", help="Print the traceback of a failure instead of one line."
    ),
) -> None:
    """Routes open primary-care charts to the person who can close them."""
    with exit_codes():
        set_debug(debug)


config_app = typer.Typer(
    help="Check the practice configuration, or preview a change to it.", no_args_is_help=True
)
app.add_typer(config_app, name="config")
register_config_diff_command(config_app)
register_outbox_commands(app)
register_quarantine_command(app)
register_sweep_command(app)
register_serve_command(app)
register_simulate_command(app)
register_report_commands(app)
register_backfill_command(app)
register_deployments_commands(app)
register_alerts_commands(app)
register_review_commands(app)

out = Console()
err = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"


def _jsonl(record: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(record).decode() + "\n")


@app.command()
def classify(
    source: str = typer.Argument(
        ...,
        help="Folder of FHIR NDJSON (Bulk Data layout) or Bundles, a FHIR base URL, or "
        "bulk+<base URL> for a Bulk Data $export (credentials from the config's ehr: section).",
        callback=not_empty,
    ),
    config: str = config_option(),
    as_of: str | None = typer.Option(None, "--as-of", help="Classify as of this date/time."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or jsonl."),
) -> None:
    """Preview: print one record per open chart with its blockers. Writes nothing."""
    from chartroute.cli.quarantine import report_bad_records
    from chartroute.fhirclient import FhirClientError
    from chartroute.preview import jsonl_records, preview
    from chartroute.validation.suites import SuiteError
    from chartroute.validation.threshold import TooManyBadRecords

    with exit_codes(bad_input=(SuiteError, TooManyBadRecords), failure=(FhirClientError,)):
        cfg = load_config(config)
        when = parse_as_of(as_of)
        with reading_progress(_open_source(source, cfg)) as feed:
            result = preview(feed, cfg, when)
        report_bad_records(result)
    records = list(jsonl_records(result))
    if fmt is Format.jsonl:
        for record in records:
            _jsonl(record)
        return
    rows = [
        {"encounter": r["encounter"], **b}
        for r in records
        for b in r["blockers"]  # type: ignore[attr-defined]
    ]
    records_table(
        out,
        f"{len(records)} open charts",
        ["encounter", "category", "role", "assignee", "detail"],
        rows,
    )


@app.command()
def generate(
    out_dir: Path = typer.Argument(..., help="Folder to write the practice into."),
    providers: int = typer.Option(5, "--providers", min=1),
    days: int = typer.Option(20, "--days", min=1, help="Clinic days (Mon-Fri)."),
    seed: int = typer.Option(1, "--seed"),
    start: str | None = typer.Option(None, "--start", help="First clinic day (ISO date)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Emit the EHR as it stood at this date/time."
    ),
) -> None:
    """Write a synthetic practice (FHIR R4 NDJSON, Bulk Data layout, plus its practice.yaml)."""
    from chartroute.generate import GeneratorProfile, generate_practice

    with exit_codes():
        kwargs: dict[str, Any] = {"providers": providers, "days": days, "seed": seed}
        if start:
            kwargs["start"] = parse_day("--start", start)
        if as_of:
            kwargs["as_of"] = parse_as_of(as_of)
        summary = generate_practice(out_dir, GeneratorProfile(**kwargs))
    err.print(f"wrote {summary.encounters} encounters to {out_dir}")


def _run_sync(
    source: str, config: str, as_of: datetime | None, full: bool, practice: str
) -> dict[str, Any]:
    """The sync flow, tagged for the failure alert like a scheduled run of it."""
    from chartroute.flows.run_tags import tagged
    from chartroute.flows.sync import sync_flow

    with tagged(practice):
        return sync_flow(source=source, config=config, as_of=as_of, full=full)


@app.command()
def sync(
    source: str = typer.Option(
        ...,
        "--source",
        help="Folder of FHIR NDJSON / Bundles, a FHIR base URL or bulk+<URL>.",
        callback=not_empty,
    ),
    config: str = config_option(),
    as_of: str | None = typer.Option(None, "--as-of"),
    full: bool = typer.Option(False, "--full", help="Re-read unchanged files too."),
) -> None:
    """Run the sync flow through Prefect: scan, validate, store, classify, route, record."""
    from chartroute.fhirclient import FhirClientError
    from chartroute.notify.deliver import Undelivered
    from chartroute.sources import BULK_PREFIX, ehr_for, is_url_spec
    from chartroute.store.lease import LeaseHeld
    from chartroute.validation.suites import SuiteError
    from chartroute.validation.threshold import TooManyBadRecords

    # LeaseHeld: another sync is running. A feed with too many bad records or a broken
    # expectation suite marks the flow run failed and is the user's to fix.
    with exit_codes(
        bad_input=(TooManyBadRecords, SuiteError), failure=(FhirClientError, LeaseHeld)
    ):
        cfg = load_config(config)
        if is_url_spec(source):
            try:
                ehr_for(source.removeprefix(BULK_PREFIX), cfg)
            except ValueError as exc:
                raise BadInput(f"--source: {exc}") from None
        elif not Path(source).is_dir():
            raise BadInput(f"--source: folder not found: {source}")
        make_engine().dispose()  # an unreachable or unwritable database fails here, at once
        try:
            result = _run_sync(source, config, parse_as_of(as_of), full, cfg.practice.name)
        except Undelivered as exc:  # the sync is done; delivery left work: say so, exit 1
            _print_sync_result(exc.result)
            raise
    _print_sync_result(result)


def _open_source(spec: str, cfg: Any) -> Any:
    """The source SOURCE names; a URL is read with the config's ``ehr:`` credentials."""
    from chartroute.sources import open_source
    from chartroute.tasks.secrets import prefect_secret

    try:
        return open_source(spec, cfg, prefect_secret)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _print_sync_result(result: dict[str, Any]) -> None:
    from chartroute.cli.outbox import SHADOW_NOTE

    ingest, classified = result["ingest"], result["classify"]
    err.print(
        f"sync {result['run_id']}: read {ingest['read']} records, stored {ingest['stored']}, "
        f"quarantined {ingest['quarantined']}; {classified['charts']} charts classified, "
        f"{classified['opened']} items opened, {classified['closed']} closed"
    )
    if classified.get("mode") == "shadow":
        messages = (result.get("deliver") or {}).get("shadow", 0)
        err.print(SHADOW_NOTE.format(messages=messages))
    from chartroute.summary import backlog_summary

    with make_engine().connect() as conn:
        summary_tables(out, backlog_summary(conn))


@app.command()
def worklist(
    person: str | None = typer.Option(None, "--person", help="Only this person's items."),
    fmt: Format = typer.Option(Format.table, "--format"),
    as_of: str | None = typer.Option(None, "--as-of", help="Ages as of this date/time."),
) -> None:
    """Open work items in priority order."""
    from chartroute.worklist import worklist as build

    with exit_codes(), make_engine().connect() as conn:
        rows = list(build(conn, parse_as_of(as_of), person))
    if fmt is Format.jsonl:
        for row in rows:
            _jsonl(row)
        return
    records_table(
        out,
        f"{len(rows)} open work items",
        [
            "priority",
            "id",
            "category",
            "role",
            "assignee",
            "encounter",
            "age_days",
            "detail",
            "escalation_level",
            "next_escalation_at",
        ],
        rows,
    )


@config_app.command("check")
def config_check(config: str = config_option()) -> None:
    """Validate the practice file; print every problem with file, line and field."""
    with exit_codes():
        cfg = load_config(config)
    mode = cfg.mode or "not set (shadow until the practice has run live)"
    err.print(f"{config}: ok ({len(cfg.roster)} people, mode {mode})")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the practice file (for editor completion)."""
    with exit_codes():
        schema = config_json_schema()
    sys.stdout.write(schema + "\n")


@app.command()
def demo(
    providers: int = typer.Option(5, "--providers", min=1),
    days: int = typer.Option(20, "--days", min=1),
    seed: int = typer.Option(1, "--seed"),
) -> None:
    """Generate a synthetic practice; run sync, escalation sweep and report on the defaults."""
    from chartroute.cli.outbox import file_outbox_note
    from chartroute.flows.escalate import escalate_flow
    from chartroute.flows.report import report_flow
    from chartroute.flows.run_tags import tagged
    from chartroute.generate import GeneratorProfile, generate_practice
    from chartroute.store.lease import LeaseHeld

    target = home() / "demo-practice"
    practice_file = str(target / "practice.yaml")
    start = _clinic_days_back(date.today(), days)
    profile = GeneratorProfile(providers=providers, days=days, seed=seed, start=start)
    with exit_codes(failure=(LeaseHeld,)):
        summary = generate_practice(target, profile)
        err.print(
            f"generated {summary.encounters} encounters for {providers} providers over {days} "
            f"clinic days in {target} (as of {summary.as_of:%Y-%m-%d %H:%M %Z})"
        )
        err.print(f"database: {database_url()}")
        practice = load_config(practice_file).practice.name
        result = _run_sync(str(target), practice_file, summary.as_of, False, practice)
        _print_sync_result(result)
        err.print(file_outbox_note(result, practice_file))
        with tagged(practice):
            swept = escalate_flow(config=practice_file, as_of=summary.as_of)
            err.print(
                f"escalation sweep: {swept.get('escalated', 0)} escalations due at the as-of time"
            )
            rendered = report_flow(config=practice_file, as_of=summary.as_of)
    err.print(f"management report: {rendered['path']}")
    err.print(
        "Next: `chartroute worklist` lists the items; `chartroute classify "
        f"{target} --config {target / 'practice.yaml'}` explains each chart. To see the runs, "
        "start `prefect server start --host 127.0.0.1` and open http://127.0.0.1:4200/runs"
    )


def _clinic_days_back(end: date, days: int) -> date:
    """The first of ``days`` weekdays ending on ``end`` (or the last weekday before it)."""
    day = end
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    count = 1
    while count < days:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return day


if __name__ == "__main__":  # pragma: no cover
    app()
