"""The ROI as plain text and as JSON: each figure, its formula, its inputs, what is missing."""

from __future__ import annotations

from chartroute.analytics.roi import RoiReport
from chartroute.analytics.roi_windows import Window


def roi_text(report: RoiReport) -> str:
    """The ROI as plain text: each figure, its formula, its inputs and what is missing."""
    lines = ["chartroute ROI: before against after, from this practice's snapshots", ""]
    for label, window in (("Baseline", report.baseline), ("Current", report.current)):
        lines.append(f"{label}: {window.describe if window else 'missing'}")
    for problem in report.problems:
        lines.append(f"  ! {problem}")
    for fig in report.figures:
        lines.append("")
        if fig.value is None:
            lines.append(f"{fig.name}: not computed")
        else:
            lines.append(f"{fig.name}: {fig.value:,.2f} {fig.unit}")
        if fig.worth is not None:
            lines.append(f"  = {fig.worth:,.0f} {report.currency} {fig.worth_label}")
        lines.append(f"  formula: {fig.formula}")
        if fig.worked:
            lines.append(f"  worked: {fig.worked}")
        for item in fig.inputs:
            shown = "missing" if item.value is None else f"{item.value:,.4g} {item.unit}"
            lines.append(f"  - {item.name} = {shown}  [{item.source}]")
        for what in fig.missing:
            lines.append(f"  missing: {what}")
    lines.append("")
    lines.append("For reference:")
    lines.extend(f"  - {b}" for b in report.benchmarks)
    return "\n".join(lines)


def roi_json(report: RoiReport) -> dict[str, object]:
    """The ROI as JSON-ready data (the same content as the text)."""

    def window(w: Window | None) -> dict[str, object] | None:
        if w is None:
            return None
        return {
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "days": w.days,
            "origins": w.origins,
            "visits": w.visits,
            "admin_charts": w.admin_charts,
            "admin_charts_unrouted": w.admin_charts_unrouted,
            "notes_signed": w.notes_signed,
            "notes_signed_after_hours": w.notes_after_hours,
            "charge_lag_mean_days": w.mean_charge_lag,
            "open_charts_mean": w.open_charts_mean,
            "clinician_backlog_mean": w.clinician_backlog_mean,
        }

    return {
        "currency": report.currency,
        "baseline": window(report.baseline),
        "current": window(report.current),
        "problems": report.problems,
        "figures": [
            {
                "name": f.name,
                "value": f.value,
                "unit": f.unit,
                "worth": f.worth,
                "worth_label": f.worth_label,
                "formula": f.formula,
                "worked": f.worked,
                "inputs": [
                    {"name": i.name, "value": i.value, "unit": i.unit, "source": i.source}
                    for i in f.inputs
                ],
                "missing": list(f.missing),
            }
            for f in report.figures
        ],
        "benchmarks": list(report.benchmarks),
    }
