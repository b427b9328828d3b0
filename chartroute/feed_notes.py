"""What a run noticed about the feed itself, beside the charts: one summary line each.

A first export carries decades of history and names its clinicians by identifier; a user
reading "1,143 open charts" needs to know how many visits the cut-off set aside, how many
references were answered by identifier, which ones matched nothing, and how many records
changed after the as-of time. ``classify`` and ``sync`` count the same figures (in
``Preview`` and ``ClassifyCounts``) and print them with ``feed_lines``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from chartroute.classify import ChartVerdict
from chartroute.fhir.facts import Fact
from chartroute.fhir.resolve import Resolver

#: Visits older than this, with no cut-off set, earn the warning naming ``charts.since``.
OLD_VISIT = timedelta(days=365)
#: The store setting that records the warning was given (it is given once per store).
OLD_VISITS_WARNED = "charts.since_warned"


def note_verdict(counts: Any, verdict: ChartVerdict, as_of: datetime, since_set: bool) -> None:
    """Count a verdict's share of the feed notes into ``counts`` (Preview or ClassifyCounts)."""
    if verdict.is_before_cutoff:
        counts.before_cutoff += 1
    elif (
        not since_set
        and verdict.is_chart
        and verdict.visit_at is not None
        and verdict.visit_at < as_of - OLD_VISIT
    ):
        counts.older_than_a_year += 1


def changed_after(facts: Sequence[Fact], as_of: datetime) -> bool:
    """True for a record the source last changed after ``as_of``: its state then is unknown."""
    return any(f.updated_at is not None and f.updated_at > as_of for f in facts)


def note_resolver(counts: Any, resolver: Resolver) -> None:
    """Add a resolver's counts (by identifier, unresolved by type) into ``counts``."""
    counts.resolved_by_identifier += resolver.resolved
    for rtype, n in resolver.unresolved.items():
        counts.unresolved_references[rtype] = counts.unresolved_references.get(rtype, 0) + n


def feed_lines(counts: Mapping[str, Any]) -> list[str]:
    """The summary lines for a run's counts; none for a figure that is zero."""
    lines = []
    if counts.get("before_cutoff"):
        lines.append(f"{counts['before_cutoff']} visits before the cut-off (charts.since)")
    if counts.get("resolved_by_identifier"):
        lines.append(f"{counts['resolved_by_identifier']} references resolved by identifier")
    unresolved = counts.get("unresolved_references") or {}
    if unresolved:
        by_type = ", ".join(f"{t} {n}" for t, n in sorted(unresolved.items()))
        lines.append(
            f"{sum(unresolved.values())} references by identifier matched nothing in the "
            f"source ({by_type}); kept as the identifier, so a roster npi: still matches"
        )
    if counts.get("read_from_store"):
        lines.append(
            f"{counts['read_from_store']} records changed after the as-of time were read as "
            "the store held them then"
        )
    if counts.get("changed_after_as_of"):
        lines.append(
            f"{counts['changed_after_as_of']} records changed after the as-of time; their "
            "state at that time is not known from this source — `chartroute backfill` "
            "reconstructs exact history from the store"
        )
    return lines


def old_visits_warning(counts: Mapping[str, Any]) -> str | None:
    """The warning for charts older than a year when the practice sets no cut-off."""
    old = counts.get("older_than_a_year") or 0
    if not old:
        return None
    return (
        f"{old} charts are of visits more than a year old; if they predate go-live, set "
        "`charts.since: <ISO date>` in the practice file (or pass --since) so they stay "
        "off the worklist"
    )
