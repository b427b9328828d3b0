"""``chartroute config diff NEW.yaml [--config CURRENT]``: what a rule change would do, first.

Both files are read and checked (a bad one exits 2 naming its file, line and field); the
stored charts are classified and routed under each as the next sync would, writing nothing;
and the differences are printed as moves between people, blockers that appear or disappear,
queues that would pass a daily capacity, and where new items would go.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from enum import StrEnum

import typer
from rich.console import Console

from chartroute.cli.errors import exit_codes
from chartroute.cli.options import config_option, parse_as_of
from chartroute.cli.render import records_table
from chartroute.config import load_config
from chartroute.config_diff.compare import ConfigDiff

out = Console()
err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)
NOBODY = "(nobody)"


class DiffFormat(StrEnum):
    table = "table"
    json = "json"


def config_diff(
    new: str = typer.Argument(..., help="The practice file as you propose to change it."),
    config: str = config_option("The practice file in use."),
    as_of: str | None = typer.Option(None, "--as-of", help="Route as of this date/time."),
    fmt: DiffFormat = typer.Option(DiffFormat.table, "--format", help="table or json."),
) -> None:
    """Preview a change to the practice file as moves between people; writes nothing."""
    from chartroute.config_diff.compare import compare, diff_json
    from chartroute.config_diff.replay import replay
    from chartroute.store.engine import make_engine

    with exit_codes():
        current, proposed = load_config(config), load_config(new)
        when = parse_as_of(as_of)
        with make_engine().connect() as conn:
            diff = compare(replay(conn, current, when), replay(conn, proposed, when), proposed)
    if fmt is DiffFormat.json:
        sys.stdout.write(json.dumps({"as_of": when.isoformat(), **diff_json(diff)}, indent=2))
        sys.stdout.write("\n")
        return
    err.print(f"{config} → {new}: {diff.charts} charts routed as of {when:%Y-%m-%d %H:%M %Z}")
    if diff.empty and not diff.blockers:
        err.print("no work item would change hands, appear or disappear")
        return
    _moves(diff)
    if diff.blockers:
        records_table(
            out,
            f"blockers that would appear ({len(diff.appear)}) or disappear ({len(diff.disappear)})",
            ["category", "field", "now", "after", "change"],
            [
                {
                    "category": b.category,
                    "field": b.field,
                    "now": b.before,
                    "after": b.after,
                    "change": f"{b.after - b.before:+d}",
                }
                for b in diff.blockers
            ],
        )
    if diff.past_capacity:
        records_table(
            out,
            "queues that would grow past the daily capacity",
            ["person", "daily_capacity", "now", "after"],
            [
                {
                    "person": q.person,
                    "daily_capacity": f"{q.daily_capacity:g}",
                    "now": q.before,
                    "after": q.after,
                }
                for q in diff.past_capacity
            ],
        )
    if diff.new_items:
        records_table(
            out,
            "where new items would go",
            ["clinician", "role", "now", "after"],
            [
                {
                    "clinician": r.clinician,
                    "role": r.role,
                    "now": r.before or NOBODY,
                    "after": r.after or NOBODY,
                }
                for r in diff.new_items
            ],
        )


def _moves(diff: ConfigDiff) -> None:
    """Open items that would change hands, counted per (from, to) with their reasons."""
    from chartroute.analytics.snapshots import stuck_reason

    if not diff.moves:
        out.print("no open item would change hands")
        return
    by_pair: dict[tuple[str, str], Counter[str]] = {}
    for m in diff.moves:
        pair = (m.from_person or NOBODY, m.to_person or NOBODY)
        by_pair.setdefault(pair, Counter())[stuck_reason(m.category, m.subject)] += 1
    records_table(
        out,
        f"{len(diff.moves)} open items would move",
        ["from", "to", "items", "why"],
        [
            {
                "from": a,
                "to": b,
                "items": sum(c.values()),
                "why": ", ".join(f"{k} {v}" for k, v in sorted(c.items())),
            }
            for (a, b), c in sorted(by_pair.items())
        ],
    )


def register(config_app: typer.Typer) -> None:
    """Add ``diff`` to ``chartroute config``."""
    config_app.command("diff")(config_diff)
