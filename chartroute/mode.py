"""Shadow or live: whether a run may reach people and the EHR, and the store's memory of it.

A practice goes live with confidence by first running in *shadow*: the sync, the escalation
sweep and the report run fully and record everything (work items, escalations, the messages
that would have gone out, marked ``shadow`` in the outbox), but nothing is sent and no FHIR
Task is written back. When the review says the classification is good enough, the ops lead
sets ``mode: live``.

The practice file's ``mode`` decides. A file without one must not silence a practice that
already delivers, nor make a new one deliver before anyone decided it should, so the store
remembers the first live run (``mode.live_since`` in ``setting``): a file without ``mode``
runs live once that is recorded, in shadow before. A database that existed before shadow mode
did is recorded as live by its migration, since it was delivering.

Each notification records the mode it was made in (``notification.shadow``), so switching to
live sends only what is made from then on, never the backlog the shadow weeks recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from chartroute.config.models import PracticeConfig
from chartroute.store import runs
from chartroute.store.batching import insert_ignore
from chartroute.store.schema import setting
from chartroute.vocabulary import Mode

#: The ``setting`` row holding when the store first acted live (an ISO instant).
LIVE_SINCE = "mode.live_since"


def live_since(conn: Connection) -> datetime | None:
    """When this store first acted live, if it has."""
    stored = runs.get_setting(conn, LIVE_SINCE)
    return datetime.fromisoformat(stored) if stored else None


def current_mode(conn: Connection, config: PracticeConfig) -> Mode:
    """The practice file's ``mode``; without one, live once the store has acted live."""
    if config.mode is not None:
        return config.mode
    return Mode.LIVE if live_since(conn) is not None else Mode.SHADOW


def acting_mode(conn: Connection, config: PracticeConfig) -> Mode:
    """The mode an action that may reach people runs in; acting live is remembered.

    Call it on the connection of the transaction that acts (enqueues, composes, writes back),
    so the memory commits with the first live action or not at all.
    """
    mode = current_mode(conn, config)
    if mode is Mode.LIVE and live_since(conn) is None:
        now = datetime.now(UTC).isoformat()
        insert_ignore(conn, setting, [{"name": LIVE_SINCE, "value": now}])
    return mode


def is_shadow(conn: Connection, config: PracticeConfig) -> bool:
    """True when runs under ``config`` reach nobody (for summaries, which act on nothing)."""
    return current_mode(conn, config) is Mode.SHADOW
