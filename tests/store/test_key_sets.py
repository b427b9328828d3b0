"""A set of keys is bound as one parameter, whatever its size, and matches exactly its keys."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select

from chartroute.fhir.facts import EncounterFact
from chartroute.store.facts import load_charts, mark_dirty, take_dirty, upsert_facts
from chartroute.store.key_sets import key_in
from chartroute.store.schema import dirty_key

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
#: More keys than SQLite's 32,766 bound parameters, the most an expanding IN list could take.
MANY = 40_000


def _encounter(key: str) -> EncounterFact:
    return EncounterFact(
        key, "1", NOW, "finished", "AMB", (), NOW, NOW, True, True, (), None, None, ("Patient/p",)
    )


def _statements(engine: Engine) -> list[tuple[str, Any]]:
    """Every statement the engine runs from now on, with its parameters."""
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many:
            seen.append((statement, params))

    return seen


def _parameter_count(params: Any) -> int:
    if isinstance(params, dict):
        return len(params)
    return len(params or ())


def test_the_classify_stage_binds_one_parameter_per_key_set(engine: Engine) -> None:
    """Taking 40,000 dirty charts and loading them sends statements whose text and parameter
    count do not grow with the keys (an IN list rendered one placeholder per key)."""
    keys = [f"Encounter/e{i:06d}" for i in range(MANY)]
    with engine.begin() as conn:
        upsert_facts(conn, [_encounter(k) for k in keys[:50]], NOW)
        mark_dirty(conn, keys)
    seen = _statements(engine)
    with engine.begin() as conn:
        taken, encounters = take_dirty(conn, MANY)
        charts = load_charts(conn, encounters)
    assert len(taken) == MANY and len(encounters) == MANY
    assert len(charts) == 50
    assert seen
    for statement, params in seen:
        assert _parameter_count(params) <= 2, statement[:200]
        assert len(statement) < 2000, statement[:200]


_KEYS = st.lists(st.text(string.ascii_letters + string.digits + "/|?=#%_-' \"\\é", max_size=12))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stored=_KEYS, asked=_KEYS, many=st.booleans())
def test_a_key_set_matches_exactly_the_stored_keys_it_names(
    sqlite_engine: Engine, stored: list[str], asked: list[str], many: bool
) -> None:
    """Empty sets, duplicates, quotes, SQL wildcards and sets past SQLite's parameter limit."""
    if many:
        asked = asked + [f"Encounter/x{i}" for i in range(MANY)]
        stored = [*stored, "Encounter/x7", "Encounter/x39999"]
    with sqlite_engine.begin() as conn:
        conn.execute(dirty_key.delete())
        mark_dirty(conn, stored)
        found = conn.execute(select(dirty_key.c.key).where(key_in(conn, dirty_key.c.key, asked)))
        assert sorted(found.scalars()) == sorted(set(stored) & set(asked))


def test_integer_ids_match_on_both_databases(engine: Engine) -> None:
    """Notification and outbox ids are integers: PostgreSQL compares them with the set's
    elements cast to the column's type, SQLite with json_each's numbers; a set past SQLite's
    parameter limit, duplicates and ids not stored included."""
    from chartroute.store.schema import work_item_event

    rows = [{"work_item_id": f"wi-{i}", "at": NOW, "event": "opened"} for i in range(30)]
    with engine.begin() as conn:
        conn.execute(work_item_event.insert(), rows)
        ids = sorted(conn.execute(select(work_item_event.c.id)).scalars())
        asked = [ids[0], ids[0], ids[7], ids[-1], *range(ids[-1] + 1, ids[-1] + MANY)]
        found = conn.execute(
            select(work_item_event.c.id).where(key_in(conn, work_item_event.c.id, asked))
        )
        assert sorted(found.scalars()) == [ids[0], ids[7], ids[-1]]
        assert not list(
            conn.execute(select(work_item_event.c.id).where(key_in(conn, work_item_event.c.id, [])))
        )
