"""Tables fit the terminal: compact below 120 columns, ids whole, tab-separated when piped."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from chartroute.cli.render import records_table

COLUMNS = [
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
]


def _rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "priority": i + 1,
            "id": f"wi-{i:04d}-9f3c2a71b0d4",
            "category": "awaiting-referral-auth",
            "role": "referral-coordinator",
            "assignee": "rc-jordan-delacroix",
            "encounter": f"Encounter/enc-2026-000{i:05d}",
            "age_days": 12.5,
            "detail": "missing chief complaint (Encounter.reasonCode or reasonReference)",
            "escalation_level": 1,
            "escalation": "level 1 next 03-11 14:00",
            "next_escalation_at": "2026-03-11T14:00:00+00:00",
        }
        for i in range(n)
    ]


#: As ``chartroute worklist`` asks for them.
COMPACT = [
    "priority", "id", "category", "assignee", "age_days", "encounter", "escalation", "detail"
]  # fmt: skip


def _render(width: int, terminal: bool, rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal, color_system=None)
    records_table(console, f"{len(rows)} open work items", COLUMNS, rows, compact=COMPACT)
    return buffer.getvalue()


def test_compact_at_80_columns_keeps_ids_whole_and_items_short() -> None:
    rows = _rows(270)
    text = _render(80, True, rows)
    lines = text.splitlines()
    # Title and two header lines; each item one line of short columns and at most two more.
    assert len(lines) <= 3 + 3 * len(rows), "\n".join(lines[:12])
    for row in rows:
        assert str(row["id"]) in text and str(row["encounter"]) in text
    assert "…" not in text and "prio…" not in text
    assert max(len(line) for line in lines) <= 80
    assert "category" in lines[1] and "detail" in lines[2] and "awaiting-referral-auth" in lines[3]


def test_wide_terminal_draws_the_boxed_table_without_cutting_ids() -> None:
    text = _render(160, True, _rows(3))
    assert "┃" in text or "│" in text
    assert "wi-0002-9f3c2a71b0d4" in text and "Encounter/enc-2026-00000002" in text
    assert "…" not in text


def test_piped_rows_are_tab_separated_with_a_header(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(2)
    rows[0]["detail"] = "two\tfields\nand a line"
    text = _render(80, False, rows)
    lines = text.splitlines()
    assert lines[0].split("\t") == COLUMNS
    assert len(lines) == 3
    fields = lines[1].split("\t")
    assert fields[1] == "wi-0000-9f3c2a71b0d4" and fields[7] == "two fields and a line"
    assert "2 open work items" in capsys.readouterr().err


def test_compact_never_breaks_a_long_path_mid_name() -> None:
    path = "/srv/practices/riverside-family-medicine/exports/2026-03-10/Encounter.ndjson"
    rows = [{"key": "Encounter/e1", "location": f"{path}:12", "reasons": "bad status"}]
    buffer = io.StringIO()
    console = Console(file=buffer, width=60, force_terminal=True, color_system=None)
    records_table(console, "1 records in quarantine", ["key", "location", "reasons"], rows)
    assert f"{path}:12" in buffer.getvalue()
