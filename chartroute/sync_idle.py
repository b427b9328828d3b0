"""A sync with nothing to do: find it from the store alone, and record it as a run.

A scheduled sync reruns over an unchanged feed most of the time. Such a run would read no
partition, validate nothing and classify no chart, yet starting the flow for it cost ~8
CPU-seconds (importing Great Expectations and Prefect, a dozen task runs). ``nothing_to_do``
asks the store, in a few indexed queries, whether every stage would find nothing:

- no partition changed since the last complete sync (the plan's own test, without starting a
  run), and ``--full`` was not asked for;
- the settings that decide classification are those of the last classification (the config
  fingerprint), no chart is queued, and no future visit has started since;
- the last sync completed (a failed or crashed one gets the whole flow again);
- nothing waits in the outbox to be composed or sent, write-back is off, and the day's live
  backlog snapshot is taken;
- no other sync holds the sync lease.

When it holds, ``record_idle_run`` records a completed ``sync_run`` whose counts say
``"unchanged": true`` (and drops expired quarantine bytes, the one chore the validate stage
does each run), so a rerun leaves a trace an operator can read (``docs/DESIGN.md``, "A sync
with nothing to do"). Any other answer runs the ordinary sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, exists, func, select

from chartroute.analytics.snapshots import local_day
from chartroute.config.models import PracticeConfig
from chartroute.lifecycle import ChartState
from chartroute.mode import current_mode
from chartroute.sources.base import Source, skipped_files
from chartroute.store import quarantine as held_store
from chartroute.store import runs
from chartroute.store.lease import database_now
from chartroute.store.schema import (
    backlog_snapshot,
    chart,
    dirty_key,
    lease,
    notification,
    outbox_message,
    sync_run,
)
from chartroute.sync import (
    ClassifyCounts,
    IngestCounts,
    SyncPlan,
    config_fingerprint,
    partitions_to_read,
    run_record,
    utcnow,
)


@dataclass(frozen=True)
class Idle:
    """A sync found to have nothing to do: what its plan would have skipped."""

    source: str
    partitions_skipped: int
    files_skipped: list[str] = field(default_factory=list)


def nothing_to_do(
    engine: Engine,
    source: Source,
    config: PracticeConfig,
    as_of: datetime,
    *,
    full: bool = False,
    deliver: bool = True,
) -> Idle | None:
    """An ``Idle`` when every stage of a sync would find nothing to do, else None."""
    if full or (config.ehr is not None and config.ehr.writeback.enabled):
        return None
    parts, todo, _ = partitions_to_read(engine, source, full)
    if todo:
        return None
    with engine.connect() as conn:
        if not _store_settled(conn, config, as_of, deliver):
            return None
    return Idle(source.name, len(parts), skipped_files(source))


def _store_settled(
    conn: Connection, config: PracticeConfig, as_of: datetime, deliver: bool
) -> bool:
    """Whether classify, deliver and the snapshot would each find nothing to do."""
    if runs.get_setting(conn, "config_fingerprint") != config_fingerprint(config):
        return False
    last = conn.execute(
        select(sync_run.c.status).order_by(sync_run.c.started_at.desc()).limit(1)
    ).scalar()
    if last != "completed":
        return False
    held = conn.execute(select(lease.c.expires_at).where(lease.c.name == runs.SYNC_LEASE)).scalar()
    if held is not None and held > database_now(conn):
        return False  # another sync is running: the flow says so (LeaseHeld)
    busy = [
        exists().where(dirty_key.c.key.is_not(None)),
        exists().where(chart.c.state == ChartState.FUTURE.value, chart.c.start_at <= as_of),
    ]
    if deliver:
        busy += [
            exists().where(notification.c.message_id.is_(None)),
            exists().where(outbox_message.c.status.in_(("pending", "sending"))),
        ]
    if any(conn.execute(select(test)).scalar() for test in busy):
        return False
    day = local_day(as_of, config.practice.timezone)
    snapshots = select(func.count()).where(
        backlog_snapshot.c.day == day, backlog_snapshot.c.origin == "live"
    )
    return bool(conn.execute(snapshots).scalar())


def record_idle_run(
    engine: Engine,
    idle: Idle,
    config: PracticeConfig,
    as_of: datetime,
    holder: str | None = None,
) -> dict[str, Any]:
    """Record a completed run that read and changed nothing; return its record."""
    with engine.begin() as conn:
        runs.close_crashed_runs(conn, utcnow())
        run_id = runs.start_run(conn, idle.source, as_of, utcnow(), holder)
        held_store.forget_raw(conn, utcnow() - timedelta(days=config.validation.keep_raw_days))
        mode = str(current_mode(conn, config))
        plan = SyncPlan(run_id, idle.source, [], idle.partitions_skipped, {}, idle.files_skipped)
        record = run_record(plan, IngestCounts(), ClassifyCounts(mode=mode))
        record["unchanged"] = True
        runs.finish_run(conn, run_id, "completed", record, utcnow())
    return record
