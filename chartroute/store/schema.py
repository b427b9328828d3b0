"""The tables chartroute owns. Schema changes go through Alembic migrations in ``migrations/``.

Facts are stored one row per resource, keyed by ``Type/id`` with the version and a content hash,
so an unchanged resource re-read costs a lookup and no write. ``fact_link`` indexes which chart a
fact belongs to; ``dirty_key`` is the queue of keys whose charts must be re-classified, written
in the same transaction as the facts so a crash between stages loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite stores them without an offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        converted: datetime = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
    }
)

KEY = 200  # "Type/id#contained": a FHIR id is at most 64 characters

fact = Table(
    "fact",
    metadata,
    Column("key", String(KEY), primary_key=True),
    Column("resource_type", String(64), nullable=False),
    Column("version", String(64)),
    Column("updated_at", UtcDateTime()),
    Column("content_hash", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("synced_at", UtcDateTime(), nullable=False),
    #: hash of the line the fact was read from (``chartroute/stored_lines.py``): the same line
    #: in a re-exported file is then recognised before it is decoded; empty for facts of
    #: records read any other way, and for contained facts (their container's line holds it).
    #: Looked up by key, so it needs no index of its own (one cost a first load 20% more CPU).
    Column("line_hash", String(32)),
    #: the run's facts, found by the time they were stored: the orphan count of a sync reads
    #: the links of what that run wrote, not of the whole store (``validation/references.py``)
    Index("ix_fact_synced_at", "synced_at"),
)

fact_link = Table(
    "fact_link",
    metadata,
    Column("fact_key", String(KEY), primary_key=True),
    Column("target_key", String(KEY), primary_key=True),
    Index("ix_fact_link_target_key", "target_key"),
)

#: identifier key (``Type?identifier=system|value``) → the key of a resource carrying it, so a
#: reference by identifier finds its resource whichever arrived first (chartroute/fhir/resolve.py)
fact_identifier = Table(
    "fact_identifier",
    metadata,
    Column("identifier_key", String(KEY), primary_key=True),
    Column("key", String(KEY), primary_key=True),
    Index("ix_fact_identifier_key", "key"),
)

dirty_key = Table(
    "dirty_key",
    metadata,
    Column("key", String(KEY), primary_key=True),
)

chart = Table(
    "chart",
    metadata,
    Column("encounter", String(KEY), primary_key=True),
    Column("state", String(16), nullable=False),  # open | closed | not-chart | future
    Column("clinician", String(64)),
    Column("visit_at", UtcDateTime()),
    Column("start_at", UtcDateTime()),
    Column("first_open_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("blocker_count", Integer, nullable=False, default=0),
    Index("ix_chart_state", "state"),
)

work_item = Table(
    "work_item",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("encounter", String(KEY), nullable=False),
    Column("category", String(32), nullable=False),
    Column("subject", String(KEY), nullable=False),
    Column("role", String(32), nullable=False),
    Column("assignee", String(64)),
    Column("clinician", String(64)),
    Column("status", String(16), nullable=False),  # open | closed
    Column("evidence", JSON, nullable=False),
    Column("detail", Text, nullable=False),
    Column("visit_at", UtcDateTime()),
    Column("billing_impact", Float),
    Column("filing_deadline", Date),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The rule that put the item with its assignee (chartroute.vocabulary.RoutingRule).
    Column("routing_reason", String(32)),
    # Still waiting on the outside world (no result, no payer answer): ranked after doable work.
    Column("waiting", Boolean),
    Index("ix_work_item_encounter", "encounter"),
    Index("ix_work_item_assignee_status", "assignee", "status"),
    Index("ix_work_item_status", "status"),
)

work_item_event = Table(
    "work_item_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("work_item_id", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("event", String(16), nullable=False),  # opened | reassigned | closed | reopened
    Column("assignee", String(64)),
    Column("previous_assignee", String(64)),
    Column("run_id", String(36)),
    # Why: the routing rule of an opening or a reassignment ("cover", "over capacity", ...).
    Column("reason", String(32)),
    Index("ix_work_item_event_work_item_id", "work_item_id"),
)

sync_run = Table(
    "sync_run",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("source", Text, nullable=False),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(16), nullable=False),  # running | completed | failed | crashed
    Column("counts", JSON),
    Column("holder", String(200)),  # host:pid[:flow run] of the process running it
)

source_cursor = Table(
    "source_cursor",
    metadata,
    Column("source", String(400), primary_key=True),
    Column("name", String(400), primary_key=True),
    Column("fingerprint", String(200), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("resource_type", String(64)),
    Column("resource_id", String(64)),
    Column("location", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Column("times_seen", Integer, nullable=False),
)

setting = Table(
    "setting",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# The transactional outbox (chartroute/notify). ``notification`` rows are written in the same
# transaction as the work item change they announce, one per (item, event, recipient, channel),
# deduplicated by ``dedupe_key``. The deliver step groups them into ``outbox_message`` rows (a
# person's digest, or one urgent message) and drives each message to sent or failed.
notification = Table(
    "notification",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("work_item_id", String(32), nullable=False),
    Column("event", String(32), nullable=False),  # opened | reassigned | closed | escalated ...
    Column("occurrence", String(64), nullable=False),  # which time this event happened
    Column("recipient", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("run_id", String(36)),
    Column("message_id", Integer),  # null while waiting to be composed into a message
    # Made while the practice ran in shadow mode (chartroute/mode.py): composed into a message
    # marked ``shadow``, never sent, even after the practice goes live.
    Column("shadow", Boolean, nullable=False, default=False),
    Index("ix_notification_message_id", "message_id"),
    Index("ix_notification_work_item_id", "work_item_id"),
)

outbox_message = Table(
    "outbox_message",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_key", String(64), nullable=False, unique=True),  # idempotency key
    Column("channel", String(64), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("address", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # digest | immediate | item
    Column("urgent", Boolean, nullable=False),
    Column("content", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed | shadow
    Column("attempts", Integer, nullable=False),  # every claim, never reset
    Column("failures", Integer, nullable=False),  # failed attempts since the last manual retry
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("claim_token", String(36)),
    Column("lease_until", UtcDateTime()),
    Column("claimed_by", String(200)),  # host:pid of the worker holding the claim
    Column("last_error", Text),
    Column("provider_id", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_outbox_message_channel_recipient", "channel", "recipient", "id"),
)

# Escalation (chartroute/escalate.py, chartroute/store/escalations.py). ``escalation_state`` is
# where each open work item stands on its policy's ladder (one row per item); ``escalation_event``
# is the audit trail of every escalation sent, unique per (item, step) so a re-run sweep records
# nothing twice. ``lease`` holds the database leases that keep two servers from running the same
# flow at once (chartroute/store/lease.py).
escalation_state = Table(
    "escalation_state",
    metadata,
    Column("work_item_id", String(32), primary_key=True),
    Column("epoch", Integer, nullable=False),  # bumped when the item reopens or its clock restarts
    Column("open_since", UtcDateTime(), nullable=False),  # start of the open spell it describes
    Column("assignee", String(64)),  # the assignee when last swept (to see reassignments)
    Column("clock_start", UtcDateTime(), nullable=False),  # tier thresholds count from here
    Column("level", Integer, nullable=False),  # highest tier reached, 0 = none
    Column("tier", String(64)),
    Column("tier_at", UtcDateTime()),  # repeats of the current tier count from here
    Column("repeats", Integer, nullable=False),
    Column("delinquent", Boolean, nullable=False),
    Column("next_at", UtcDateTime()),  # when the next step is due (null: nothing more, or closed)
    Column("next_step", String(64)),
    Column("last_event_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_escalation_state_next_at", "next_at"),
)

escalation_event = Table(
    "escalation_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("work_item_id", String(32), nullable=False),
    Column("step", String(64), nullable=False),  # e.g. "0.t2", "0.t2.r3", "0.delinquent"
    Column("kind", String(16), nullable=False),  # escalated | repeated | delinquent
    Column("level", Integer, nullable=False),
    Column("tier", String(64)),
    Column("due_at", UtcDateTime(), nullable=False),  # when the policy made it due
    Column("at", UtcDateTime(), nullable=False),  # the sweep's as-of instant
    Column("assignee", String(64)),
    Column("recipients", JSON, nullable=False),  # [{"person", "target", "covering"}]
    Column("run_id", String(36)),
    Index("uq_escalation_event_work_item_step", "work_item_id", "step", unique=True),
    Index("ix_escalation_event_at", "at"),
)

lease = Table(
    "lease",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),  # host, process and run, for people to read
    Column("token", String(36), nullable=False),  # proves ownership on renew and release
    Column("acquired_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

# Daily backlog snapshots (chartroute/analytics/snapshots.py, chartroute/store/snapshots.py).
# ``backlog_snapshot`` has one row per (practice-local day, origin): the instant the figures
# describe and when they were taken. ``backlog_snapshot_value`` holds the figures, one row per
# (metric, dimension, key), e.g. ("open_items", "category", "pending-result"). Origin ``live``
# rows come from syncs and the daily report; ``reconstructed`` rows from a backfill over past
# days. Both may exist for one day; readers prefer ``live``.
backlog_snapshot = Table(
    "backlog_snapshot",
    metadata,
    Column("day", Date, primary_key=True),
    Column("origin", String(16), primary_key=True),  # live | reconstructed
    Column("as_of", UtcDateTime(), nullable=False),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("run_id", String(36)),
)

backlog_snapshot_value = Table(
    "backlog_snapshot_value",
    metadata,
    Column("day", Date, primary_key=True),
    Column("origin", String(16), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("dimension", String(32), primary_key=True),  # total | category | role | person ...
    Column("key", String(KEY), primary_key=True),  # "" for the total
    Column("value", Float, nullable=False),
)

# Snapshots count a day's work item transitions by their time.
Index("ix_work_item_event_at", work_item_event.c.at)

# Backfills (chartroute/backfill/). ``backfill_encounter`` indexes every stored Encounter by
# its practice-local start day, so a partition finds its encounters by range. A backfill is
# named by ``backfill_id`` (a hash of its source, range, partition size and config);
# ``backfill_partition`` records each partition it completed, in the same transaction as the
# partition's ``backfill_figure`` rows (daily counts from ``first_day``, one JSON list per
# figure), so a rerun or a resumed run skips what is done and nothing is counted twice.
backfill_encounter = Table(
    "backfill_encounter",
    metadata,
    Column("encounter", String(KEY), primary_key=True),
    Column("start_day", Date),
    Column("indexed_at", UtcDateTime(), nullable=False),
    Index("ix_backfill_encounter_start_day", "start_day"),
)

backfill_partition = Table(
    "backfill_partition",
    metadata,
    Column("backfill_id", String(32), primary_key=True),
    Column("partition", String(32), primary_key=True),  # YYYY-MM-DD..YYYY-MM-DD
    Column("encounters", Integer, nullable=False),
    Column("charts", Integer, nullable=False),
    Column("open_item_days", Integer, nullable=False),
    Column("finished_at", UtcDateTime(), nullable=False),
)

backfill_figure = Table(
    "backfill_figure",
    metadata,
    Column("backfill_id", String(32), primary_key=True),
    Column("partition", String(32), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("dimension", String(32), primary_key=True),
    Column("key", String(KEY), primary_key=True),
    Column("first_day", Date, nullable=False),
    Column("counts", JSON, nullable=False),  # one count per day from first_day
)

# The classification review (chartroute/review/). ``review_verdict`` holds what the ops lead
# said about one blocker of one chart on a review sheet, keyed (chart, category, subject) like
# the work item it judges, so importing the same sheet again changes nothing. ``category`` is
# ``none`` for a closed chart's row; ``subject`` is "" where a row names none (a closed chart,
# a missed blocker added by the reviewer without one). ``note`` is the reviewer's own text: it
# stays in the database, and reports, logs and artifacts never show it.
review_verdict = Table(
    "review_verdict",
    metadata,
    Column("chart", String(KEY), primary_key=True),  # Encounter/<id>
    Column("category", String(32), primary_key=True),
    Column("subject", String(KEY), primary_key=True),
    Column("verdict", String(16), nullable=False),  # correct | wrong | missing
    Column("correct_category", String(32)),
    Column("role", String(32)),
    Column("assignee", String(64)),
    Column("evidence", Text, nullable=False),
    Column("note", Text),
    Column("work_item_id", String(32)),  # the item judged; null for a missed blocker
    Column("imported_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_review_verdict_category", "category"),
)
