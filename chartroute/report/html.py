"""The management report as one self-contained HTML file.

It opens from a shared drive or an email attachment on a machine with no network: styles are
inline, charts are inline SVG, there is no script, and a Content-Security-Policy forbids the
page from loading anything at all, so a mistake that tried to would show as a blocked request
rather than a silent call out. Only identifiers, categories, staff names and counts appear.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from chartroute.analytics.snapshots import AGE_BUCKETS, UNKNOWN
from chartroute.report import graphs
from chartroute.report.model import ReportData
from chartroute.report.page import data_table, page, section
from chartroute.report.review import accuracy_section
from chartroute.vocabulary import Category, DocumentationField, category_label, ordered_categories

#: Labels of the finer reasons of the Pareto (``analytics.snapshots.stuck_reason``).
REASON_LABELS: dict[str, str] = {
    f"{Category.AWAITING_REFERRAL_AUTH}/referral": "Referral letter",
    f"{Category.AWAITING_REFERRAL_AUTH}/prior-auth": "Prior authorization",
    **{f"{Category.DOCUMENTATION_GAP}/{f}": f"Missing {f.label}" for f in DocumentationField},
    f"{Category.DOCUMENTATION_GAP}/form": "Missing form",
}


#: What the report says of a practice in shadow mode (chartroute/mode.py).
SHADOW_NOTICE = "shadow mode: work is recorded, nobody has been notified"


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, category_label(code))


def _day_labels(data: ReportData) -> list[str]:
    return [d.strftime("%m-%d") for d in data.days]


def _note(anchor: str, title: str, why: str, reason: str) -> str:
    """A section with nothing to draw: its reason, said once, and no empty chart."""
    return section(anchor, title, why, graphs.empty_chart(title, reason))


def backlog_trend(data: ReportData) -> str:
    categories = ordered_categories(data.keys("open_items", "category"))
    series = {category_label(c): data.series("open_items", "category", c) for c in categories}
    graph = graphs.stacked_bars("Open work items by category, per day", _day_labels(data), series)
    return section(
        "backlog-trend",
        "Backlog trend by category",
        "Open work items at each day's snapshot, stacked by why the chart is stuck. "
        "Days without a snapshot are left blank.",
        graph,
    )


def clinician_backlog(data: ReportData) -> str:
    series = {
        "all open charts": data.series("open_charts"),
        "clinicians' own backlog": data.series("clinician_backlog_charts"),
        "on staff only": data.series("staff_only_charts"),
    }
    graph = graphs.line_chart(
        "Clinicians' own backlog against all open charts", _day_labels(data), series
    )
    return section(
        "clinician-backlog",
        "Clinicians' own backlog against all open charts",
        "Charts holding at least one item only a clinician can do (sign, answer a coder, add "
        "a diagnosis) against every open chart. The gap is what routing keeps off clinicians.",
        graph,
    )


def opened_closed(data: ReportData) -> str:
    title, why = (
        "Opened, closed and escalated per day",
        "When more close than open, the backlog shrinks.",
    )
    missing = data.not_measured("items_opened", "the items opened, closed and escalated")
    if missing:
        return _note("opened-closed", title, why, missing)
    series = {
        "items opened": data.series("items_opened"),
        "items closed": data.series("items_closed"),
        "escalations": data.series("escalations"),
    }
    graph = graphs.line_chart("Work items opened and closed per day", _day_labels(data), series)
    return section("opened-closed", title, why, graph)


def aging(data: ReportData) -> str:
    latest = data.latest
    buckets = [label for _, _, label in AGE_BUCKETS]
    counts, missing = data.latest_breakdown("open_charts", "age", "open charts by age")
    day = f" on {latest.day}" if latest else ""
    title = f"Aging of open charts{day}"
    why = (
        "Days since the visit of each open chart. Closure policies ask for 24-48 hours; "
        "30 days is the usual deficiency threshold."
    )
    if missing:
        return _note("aging", title, why, missing)
    if counts.get(UNKNOWN):
        buckets.append(UNKNOWN)
    labels = [f"{b} days" if b != UNKNOWN else b for b in buckets]
    values = [counts.get(b, 0.0) for b in buckets]
    graph = graphs.bar_chart(f"Open charts by age{day}", labels, values)
    return section("aging", title, why, graph)


def pareto(data: ReportData) -> str:
    latest = data.latest
    reasons, missing = data.latest_breakdown("open_items", "reason", "open items by stuck reason")
    day = f" on {latest.day}" if latest else ""
    title = f"Where charts get stuck: Pareto of reasons{day}"
    why = (
        "Open work items by reason, largest first; the line is the cumulative share. The few "
        "reasons left of 80% are where effort pays most."
    )
    if missing:
        return _note("pareto", title, why, missing)
    labels = [reason_label(r) for r in reasons]
    graph = graphs.pareto_chart("Open work items by stuck reason", labels, list(reasons.values()))
    return section("pareto", title, why, graph)


def person_queues(data: ReportData, people: Mapping[str, str]) -> str:
    latest = data.latest
    queue, missing = data.latest_breakdown(
        "open_items", "person", "who held each item (that depended on each day's loads)"
    )
    day = f" on {latest.day}" if latest else ""
    title, why = (
        f"Per-person queues{day}",
        "Open work items per person; the dark part is older than 7 days.",
    )
    if missing:
        return _note("queues", title, why, missing)
    aged = latest.breakdown("open_items_aged", "person") if latest else {}
    order = sorted(queue, key=lambda p: (-queue[p], p))
    labels = [people.get(p, p) for p in order]
    graph = graphs.horizontal_bars(
        "Open work items per person",
        labels,
        [queue[p] for p in order],
        [aged.get(p, 0.0) for p in order],
        highlight_name="older than 7 days",
        value_name="open items",
    )
    rows = [[people.get(p, p), p, f"{queue[p]:,.0f}", f"{aged.get(p, 0.0):,.0f}"] for p in order]
    table = data_table(["person", "id", "open items", "older than 7 days"], rows)
    return section("queues", title, why, graph + table)


def closing_times(data: ReportData) -> str:
    title = "Time to close by category"
    why = (
        f"Work items closed {data.start} to {data.end}: days from the visit until the item "
        "closed, median and 90th percentile."
    )
    if not data.time_to_close:
        missing = data.not_measured("time_to_close_days.count", "when items closed", "category")
        return _note("time-to-close", title, why, missing or "No work items closed in these days.")
    categories = ordered_categories(list(data.time_to_close))
    stats = [data.time_to_close[c] for c in categories]
    labels = [category_label(c) for c in categories]
    graph = graphs.median_p90_chart(
        "Days from visit to item closed, by category",
        labels,
        [s.median or 0.0 for s in stats],
        [s.p90 or 0.0 for s in stats],
        " d",
    )
    rows = [
        [label, f"{s.count:,}", f"{s.median or 0.0:.1f}", f"{s.p90 or 0.0:.1f}"]
        for label, s in zip(labels, stats, strict=True)
    ]
    table = data_table(["category", "closed", "median days", "p90 days"], rows)
    return section("time-to-close", title, why, graph + table)


def after_hours(data: ReportData) -> str:
    title = "After-hours signing"
    why = (
        "Notes signed outside the practice's clinic hours (evenings, weekends, holidays), by "
        "the signing time the EHR recorded. Family physicians average 1.4 hours a day of EHR "
        "work after hours (Arndt et al., 2017)."
    )
    missing = data.not_measured("notes_signed", "when notes were signed")
    if missing:
        return _note("after-hours", title, why, missing)
    signed = data.series("notes_signed")
    after = data.series("notes_signed_after_hours")
    in_hours = [None if s is None else s - (a or 0.0) for s, a in zip(signed, after, strict=True)]
    graph = graphs.stacked_bars(
        "Notes signed per day, in and after clinic hours",
        _day_labels(data),
        {"in clinic hours": in_hours, "after hours": after},
    )
    share = [
        None if s is None or not s else (a or 0.0) / s * 100
        for s, a in zip(signed, after, strict=True)
    ]
    share_chart = graphs.line_chart(
        "Share of notes signed after hours", _day_labels(data), {"after-hours share": share}, "%"
    )
    return section("after-hours", title, why, graph + share_chart)


def charge_lag(data: ReportData) -> str:
    title = "Charge lag"
    why = (
        "Days from the visit until the chart closed, the earliest its claim can go out. Top "
        "practices bill within 3-5 days; the bottom quartile takes 10-15 (MGMA)."
    )
    if not data.charge_lag.count:
        missing = data.not_measured("charge_lag_days.count", "when charts closed")
        return _note("charge-lag", title, why, missing or "No charts closed in these days.")
    graph = graphs.line_chart(
        "Median charge lag of charts closed each day",
        _day_labels(data),
        {"median days, visit to chart closed": data.series("charge_lag_days.median", absent=None)},
        " d",
        references={"top practices: 5 days": 5.0, "bottom quartile: 10 days": 10.0},
    )
    lag = data.charge_lag
    summary = data_table(
        ["charts closed", "median days", "p90 days", "mean days"],
        [
            [
                f"{lag.count:,}",
                "n/a" if lag.median is None else f"{lag.median:.1f}",
                "n/a" if lag.p90 is None else f"{lag.p90:.1f}",
                "n/a" if lag.mean is None else f"{lag.mean:.1f}",
            ]
        ],
    )
    return section("charge-lag", title, why, graph + summary)


def escalations(data: ReportData) -> str:
    title = "Escalations and delinquent charts"
    why = (
        f"Escalation steps sent {data.start} to {data.end}, and open charts the escalation "
        "policy marks delinquent at the last snapshot (a chart counts once per category)."
    )
    missing = data.not_measured("escalations", "escalations or delinquency")
    if missing:
        return _note("escalations", title, why, missing)
    latest = data.latest
    delinquent = latest.breakdown("delinquent_charts", "category") if latest else {}
    escalated: dict[str, float] = {}
    for stored in data.stored.values():
        for key, value in stored.breakdown("escalations", "category").items():
            escalated[key] = escalated.get(key, 0.0) + value
    categories = ordered_categories(sorted(set(delinquent) | set(escalated)))
    rows = [
        [category_label(c), f"{escalated.get(c, 0.0):,.0f}", f"{delinquent.get(c, 0.0):,.0f}"]
        for c in categories
    ]
    total_delinquent = latest.get("delinquent_charts") if latest else None
    rows.append(
        [
            "all",
            f"{data.window_total('escalations') or 0.0:,.0f}",
            "n/a" if total_delinquent is None else f"{total_delinquent:,.0f}",
        ]
    )
    return section(
        "escalations", title, why, data_table(["category", "escalations", "delinquent now"], rows)
    )


def _coverage(data: ReportData) -> str:
    origins = data.origins
    missing = len(data.days) - len(data.stored)
    parts = [f"{n} {o}" for o, n in sorted(origins.items())]
    text = ", ".join(parts) if parts else "no snapshots"
    if missing:
        text += f"; {missing} of {len(data.days)} days without a snapshot"
    return text


def render_report(data: ReportData, people: Mapping[str, str] | None = None) -> str:
    """The whole page."""
    people = people or {}
    local = data.generated_at.astimezone(ZoneInfo(data.timezone))
    cards = "".join(
        f'<div class="card" data-key="{escape(h.key)}"><div class="label">{escape(h.label)}'
        f'</div><div class="value">{escape(h.value)}</div><div class="detail">'
        f"{escape(h.detail)}</div></div>"
        for h in data.headlines
    )
    sections = [
        backlog_trend(data),
        clinician_backlog(data),
        opened_closed(data),
        aging(data),
        pareto(data),
        person_queues(data, people),
        closing_times(data),
        after_hours(data),
        charge_lag(data),
        escalations(data),
        accuracy_section(data.accuracy),
    ]
    title = f"{data.practice}: where charts get stuck"
    subtitle = (
        f"{escape(str(data.start))} to {escape(str(data.end))} · generated "
        f"{escape(local.strftime('%Y-%m-%d %H:%M %Z'))} · snapshots: {escape(_coverage(data))}"
    )
    if data.mode == "shadow":
        subtitle += f" · <b>{escape(SHADOW_NOTICE)}</b>"
    glossary = [
        ("Open chart", "A visit with at least one open work item (a blocker)."),
        (
            "Snapshot",
            "The backlog as it stood at the day's last sync (live), or as a backfill "
            "reconstructed it from the EHR's own times (reconstructed). A day with both shows "
            "the live one.",
        ),
        ("Clinic hours", f"The practice calendar's opening hours in {escape(data.timezone)}."),
        (
            "Privacy",
            "This page holds identifiers, categories, staff names and counts only: no patient "
            "names, birth dates, diagnoses or note text.",
        ),
    ]
    return page(title, subtitle, cards, sections, glossary)


def report_filename(data: ReportData) -> str:
    return f"chartroute-report-{data.start}-to-{data.end}.html"


def write_report(html: str, out_dir: Path, filename: str) -> Path:
    """Write the page atomically, so a reader never opens a half-written file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / filename
    partial = target.with_name(f".{filename}.{os.getpid()}.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target
