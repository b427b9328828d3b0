"""Composing reads one person's notifications and items at a time (issue 19).

A first sync at a million charts notified of 80,000 items; composing read every waiting
notification and every one of their work items (evidence and detail too) at once, 200 MB
at the end of the sync. Now only the ids are held for the run.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig
from chartroute.notify import digest
from chartroute.notify.digest import compose
from chartroute.store.schema import notification
from tests import builders as b
from tests.notify.conftest import AS_OF, chart_resources, run_sync


def test_compose_reads_one_group_at_a_time(
    engine: Engine, tmp_path: Path, file_config: PracticeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    b.write_ndjson(tmp_path / "src", chart_resources("e", 6))
    run_sync(engine, file_config, tmp_path / "src")
    with engine.connect() as conn:
        rows = list(conn.execute(select(notification)))
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        groups[(r.recipient, r.channel)].add(r.work_item_id)
    assert len(groups) > 1

    asked: list[set[str]] = []
    columns: set[str] = set()
    read_items = digest._items

    def items(conn: Any, ids: set[str]) -> dict[str, dict[str, Any]]:
        asked.append(set(ids))
        found = read_items(conn, ids)
        columns.update(k for item in found.values() for k in item)
        return found

    monkeypatch.setattr(digest, "_items", items)
    counts = compose(engine, file_config, AS_OF)
    assert counts.notifications == len(rows)
    assert sorted(map(sorted, asked)) == sorted(map(sorted, groups.values()))
    assert columns and not columns & {"evidence", "detail"}
