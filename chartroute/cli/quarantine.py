"""``chartroute quarantine``: the records held as bad, and why; ``--explain KEY`` for one.

The listing carries identifiers, locations, reasons and counts — never record content — so it
can be pasted into a ticket to the EHR vendor. ``--explain`` re-validates one held record
against the FHIR R4 models and prints what the specification says is wrong with it.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.render import records_table
from chartroute.fhir.dates import format_instant

if TYPE_CHECKING:
    from chartroute.preview import Preview

out = Console()

#: A preview lists this many bad records one per line, then counts the rest: a broken export
#: of thousands would otherwise bury the counts by reason and the charts.
BAD_RECORD_LINES = 20
#: The table's columns; the key already names the resource type and id (jsonl has each).
COLUMNS = ["key", "location", "reasons", "first_seen", "times_seen"]


class ListFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"


def register(app: typer.Typer) -> None:
    """Add the ``quarantine`` command to the CLI."""
    app.command("quarantine")(quarantine)


def quarantine(
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", help="table or jsonl."),
    explain: str | None = typer.Option(
        None, "--explain", metavar="KEY", help="Re-validate one held record (key as listed)."
    ),
) -> None:
    """List the records held as bad, one per resource, with every reason (no record content)."""
    from chartroute.cli.practice_home import announce, reading_store
    from chartroute.store.quarantine import held_record, held_records

    announce(None, database=True)
    with exit_codes():
        engine = reading_store()
        if explain is not None:
            with engine.connect() as conn:
                record = held_record(conn, explain)
            if record is None:
                raise BadInput(f"--explain: no quarantined record with key {explain!r}")
            _explain(record.key, record.location, record.reasons, record.raw or b"")
            return
        with engine.connect() as conn:
            rows = [_listing(r.listing()) for r in held_records(conn)]
    if fmt is ListFormat.jsonl:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    table_rows = [
        {**row, "reasons": "; ".join(row["reasons"]), "first_seen": row["first_seen"][:16] + "Z"}
        for row in rows
    ]
    records_table(out, f"{len(rows)} records in quarantine", COLUMNS, table_rows)


def _listing(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "first_seen": format_instant(row["first_seen"]),
        "last_seen": format_instant(row["last_seen"]),
    }


def _explain(key: str, location: str, reasons: list[str], raw: bytes) -> None:
    from chartroute.validation.explain import spec_errors

    lines = [f"{key}  (read at {location})", "held by chartroute because:"]
    lines += [f"  - {reason}" for reason in reasons]
    if not raw:
        lines.append(
            "the record's content is no longer kept (validation.keep_raw_days after it was "
            "last seen); a sync that reads it again keeps it again"
        )
        sys.stdout.write("\n".join(lines) + "\n")
        return
    errors = spec_errors(raw)
    if errors:
        lines.append("FHIR R4 specification (fhir.resources R4B models) reports:")
        lines += [f"  - {error}" for error in errors]
    else:
        lines.append(
            "FHIR R4 specification (fhir.resources R4B models): no errors; the reasons above "
            "are chartroute's own checks (value sets, dates, duplicates), which the base "
            "models do not enforce."
        )
    sys.stdout.write("\n".join(lines) + "\n")


def report_bad_records(result: Preview) -> None:
    """Tell stderr about a preview's bad records; raise ``TooManyBadRecords`` past the limit."""
    from chartroute.validation.reasons import reason_label
    from chartroute.validation.threshold import TooManyBadRecords

    for bad in result.rejected[:BAD_RECORD_LINES]:
        print(f"bad record at {bad.location}: {'; '.join(bad.reasons)}", file=sys.stderr)
    if len(result.rejected) > BAD_RECORD_LINES:
        more = len(result.rejected) - BAD_RECORD_LINES
        print(f"... and {more} more bad records ({len(result.rejected)} in all)", file=sys.stderr)
    orphans = sum(
        c["failed"] for label, c in result.checks.items() if label.startswith("references / ")
    )
    if orphans:
        print(
            f"note: {orphans} references point at resources that are not in the source",
            file=sys.stderr,
        )
    share = result.bad_share
    if share is None or not share.bad:
        return
    if share.exceeded:
        raise TooManyBadRecords(share, "classify", quarantined=False)
    labels: dict[str, int] = {}
    for bad in result.rejected:
        for label in dict.fromkeys(reason_label(r) for r in bad.reasons):
            labels[label] = labels.get(label, 0) + 1
    summary = ", ".join(f"{label} ({n})" for label, n in sorted(labels.items()))
    print(f"warning: {share.describe()}: {summary}", file=sys.stderr)
