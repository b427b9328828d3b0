"""``chartroute``: generate, classify, sync, worklist, config check, demo."""

from __future__ import annotations

import os
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, exit_codes, set_debug
from chartroute.cli.lazy_commands import lazy_group
from chartroute.cli.options import (
    SINCE_HELP,
    config_option,
    not_empty,
    parse_as_of,
    parse_day,
)
from chartroute.cli.practice_home import (
    announce,
    reading_store,
)
from chartroute.cli.render import records_table, summary_tables
from chartroute.config import load_config
from chartroute.config.loader import config_json_schema
from chartroute.sources.base import skipped_files
from chartroute.store.engine import home, make_engine

# Prefect's temporary server would try to send usage telemetry over the network; chartroute
# runs on loopback only.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary server's first start on a fresh machine (creating its database) was seen to take
# longer than Prefect's 20 s default, which failed the README's first command; give it time.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

#: The commands defined in other modules, imported when run (``cli/lazy_commands.py``).
LAZY_COMMANDS = {
    "alerts": "chartroute.cli.alerts",
    "backfill": "chartroute.cli.backfill",
    "deliver": "chartroute.cli.outbox",
    "demo": "chartroute.cli.demo",
    "deployments": "chartroute.cli.deployments",
    "generate": "chartroute.cli.generate",
    "outbox": "chartroute.cli.outbox",
    "quarantine": "chartroute.cli.quarantine",
    "report": "chartroute.cli.report",
    "review": "chartroute.cli.review",
    "roi": "chartroute.cli.report",
    "serve": "chartroute.cli.serve",
    "server": "chartroute.cli.prefect_server",
    "simulate": "chartroute.cli.simulate",
    "sweep": "chartroute.cli.sweep",
}
LAZY_CONFIG_COMMANDS = {"diff": "chartroute.cli.config_diff"}

app = typer.Typer(
    help="Routes open primary-care charts to the person who can close them.",
    no_args_is_help=True,
    add_completion=False,
    cls=lazy_group(LAZY_COMMANDS),
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
    help="Check the practice configuration, or preview a change to it.",
    no_args_is_help=True,
    cls=lazy_group(LAZY_CONFIG_COMMANDS),
)
app.add_typer(config_app, name="config")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)


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
    config: str = config_option(database=False),
    as_of: str | None = typer.Option(None, "--as-of", help="Classify as of this date/time."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or jsonl."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
) -> None:
    """Preview: print one record per open chart with its blockers. Writes nothing."""
    from chartroute.cli.progress import reading_progress
    from chartroute.cli.quarantine import report_bad_records
    from chartroute.fhirclient import FhirClientError
    from chartroute.preview import jsonl_records, preview
    from chartroute.validation.suites import SuiteError
    from chartroute.validation.threshold import TooManyBadRecords

    with exit_codes(bad_input=(SuiteError, TooManyBadRecords), failure=(FhirClientError,)):
        cfg = load_config(config).with_since(parse_day("--since", since))
        when = parse_as_of(as_of)
        opened = _open_source(source, cfg)
        for skipped in skipped_files(opened):
            print(f"skipped file {skipped}", file=sys.stderr)
        with reading_progress(opened) as feed:
            result = preview(feed, cfg, when, stored_at=_store_as_of())
        report_bad_records(result)
        _print_feed_notes(result.notes())
    records = list(jsonl_records(result))
    _warn_if_roster_is_elsewhere(records, config)
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
        ["encounter", "category", "role", "assignee", "reason", "detail"],
        rows,
    )


def _warn_if_roster_is_elsewhere(records: list[dict[str, Any]], config: str) -> None:
    """Say so when the practice file's roster knows none of the source's clinicians.

    A classify run on the home's default practice (or the repository's example) against
    another practice's export routes every clinician blocker to nobody; without a warning the
    preview looks like a practice whose clinicians have left.
    """
    blockers = [b for r in records for b in r["blockers"]]
    clinicians = [b for b in blockers if b["role"] == "clinician"]
    if not clinicians or any(b["assignee"] for b in clinicians):
        return
    unassigned = sum(1 for b in blockers if not b["assignee"])
    err.print(
        f"warning: the roster of {config} has none of this source's clinicians: "
        f"{unassigned} blockers left unassigned; is it this practice's file? (--config FILE)"
    )


def _run_sync(
    source: str,
    config: str,
    as_of: datetime | None,
    full: bool,
    practice: str,
    since: date | None = None,
) -> dict[str, Any]:
    """The sync flow, tagged for the failure alert like a scheduled run of it."""
    from chartroute.cli.prefect_server import use_for_flows

    use_for_flows()  # before Prefect is imported: the environment's, the home's, or temporary
    from chartroute.flows.run_tags import tagged
    from chartroute.flows.sync import sync_flow

    with tagged(practice):
        return sync_flow(source=source, config=config, as_of=as_of, full=full, since=since)


def _idle_sync(
    source: str, cfg: Any, as_of: datetime | None, full: bool, since: date | None
) -> dict[str, Any] | None:
    """The record of a sync of a folder with nothing to do, recorded in the store without
    Prefect or the expectation suites (``chartroute/sync_idle.py``); None: run the flow."""
    from datetime import UTC

    from chartroute.sync_idle import nothing_to_do, record_idle_run

    config = cfg.with_since(since) if since is not None else cfg
    when = as_of or datetime.now(UTC)
    engine = make_engine()
    from chartroute.sources import open_source

    # a folder: no EHR credentials (and so no Prefect secret) are needed to list its files
    idle = nothing_to_do(engine, open_source(source), config, when, full=full)
    return None if idle is None else record_idle_run(engine, idle, config, when)


def _store_as_of() -> Any:
    """Read access to the practice's store, when there is one: a record the source changed
    after a past as-of is then read as the store held it (classify still writes nothing)."""
    import os

    from sqlalchemy.exc import SQLAlchemyError

    from chartroute.store.facts import facts_as_of

    if not os.environ.get("CHARTROUTE_DATABASE_URL") and not (home() / "chartroute.db").is_file():
        return None

    def stored_at(keys: list[str], as_of: datetime) -> dict[str, Any]:
        try:
            with make_engine(migrate=False).connect() as conn:
                return facts_as_of(conn, keys, as_of)
        except SQLAlchemyError:  # no store schema here yet: nothing is known from it
            return {}

    return stored_at


def _print_feed_notes(counts: dict[str, Any], warn_old: bool = True) -> None:
    """The run's feed notes (cut-off, identifiers, as-of) and the old-visits warning."""
    from chartroute.feed_notes import feed_lines, old_visits_warning

    for line in feed_lines(counts):
        err.print(f"note: {line}")
    warning = old_visits_warning(counts) if warn_old else None
    if warning:
        err.print(f"warning: {warning}")


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
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
) -> None:
    """Run the sync flow through Prefect: scan, validate, store, classify, route, record."""
    from chartroute.fhirclient import FhirClientError
    from chartroute.notify.deliver import Undelivered
    from chartroute.sources import BULK_PREFIX, ehr_for, is_url_spec
    from chartroute.store.lease import LeaseHeld
    from chartroute.validation.suites import SuiteError
    from chartroute.validation.threshold import TooManyBadRecords

    # LeaseHeld: another sync is running. A feed with too many bad records, a folder with no
    # records or a broken expectation suite marks the flow run failed and is the user's to fix.
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
        cut_off = parse_day("--since", since)
        make_engine().dispose()  # an unreachable or unwritable database fails here, at once
        when = parse_as_of(as_of)
        idle = None if is_url_spec(source) else _idle_sync(source, cfg, when, full, cut_off)
        if idle is not None:  # nothing changed: recorded without starting the flow
            _print_sync_result(idle)
            return
        try:
            result = _run_sync(source, config, when, full, cfg.practice.name, since=cut_off)
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
    for skipped in ingest.get("files_skipped", ()):
        err.print(f"skipped file {skipped}", markup=False, highlight=False)
    if result.get("unchanged"):
        err.print(
            f"sync {result['run_id']}: nothing changed since the last sync "
            f"({ingest['partitions_skipped']} partitions unchanged, no chart queued, nothing to "
            "deliver); recorded without a flow run; the backlog is as that sync left it "
            "(`chartroute worklist`)"
        )
    other_types = ingest.get("skipped_types", 0)
    err.print(
        f"sync {result['run_id']}: read {ingest['read']} records, stored {ingest['stored']}, "
        f"quarantined {ingest['quarantined']}"
        + (f", skipped {other_types} of types the rules do not read" if other_types else "")
        + f"; {classified['charts']} charts classified, "
        f"{classified['opened']} items opened, {classified['closed']} closed"
    )
    notes = {**classified, "changed_after_as_of": ingest.get("changed_after_as_of", 0)}
    _print_feed_notes(notes, warn_old=bool(classified.get("warn_old_visits")))
    if classified.get("mode") == "shadow":
        messages = (result.get("deliver") or {}).get("shadow", 0)
        err.print(SHADOW_NOTE.format(messages=messages))
    if result.get("unchanged"):  # the backlog is as the last sync left it: `worklist` shows it
        return
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

    announce(None, database=True)
    with exit_codes(), reading_store().connect() as conn:
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
            "reason",
            "encounter",
            "age_days",
            "detail",
            "escalation_level",
            "next_escalation_at",
        ],
        [{**row, "escalation": _escalation_cell(row)} for row in rows],
        compact=[
            "priority",
            "id",
            "category",
            "assignee",
            "age_days",
            "encounter",
            "escalation",
            "detail",
        ],
    )


def _escalation_cell(row: dict[str, Any]) -> str | None:
    """The narrow worklist's one column for the ladder: level, and when the next step is due."""
    level, due = row.get("escalation_level"), row.get("next_escalation_at")
    if not level and due is None:
        return None
    when = f" next {due:%m-%d %H:%M}" if isinstance(due, datetime) else ""
    return f"level {level or 0}{when}"


@config_app.command("check")
def config_check(config: str = config_option(database=False)) -> None:
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


if __name__ == "__main__":  # pragma: no cover
    app()
