"""Run the sync's ingest and validate stages directly (no Prefect), as the flow does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from chartroute import sync
from chartroute.config.validation import Validation
from chartroute.sources import NdjsonDirSource
from chartroute.store.quarantine import HeldRecord, held_records
from chartroute.store.schema import fact
from chartroute.validation.feed import FeedValidator
from chartroute.validation.report import RunValidation, validate_run
from tests.conftest import ROOT

PRACTICE = ROOT / "config" / "practice.yaml"


def ingest(
    engine: Engine,
    folder: Path,
    as_of: datetime,
    settings: Validation | None = None,
    validate_size: int = sync.VALIDATE_BATCH,
) -> tuple[sync.SyncPlan, sync.IngestCounts]:
    """Plan and ingest every changed partition; cursors are left for the caller."""
    source = NdjsonDirSource(folder)
    plan = sync.plan_sync(engine, source, as_of)
    validator = FeedValidator(settings or Validation(), as_of)
    totals = sync.ingest_partitions(
        engine, source, plan.partitions, validator=validator, validate_size=validate_size
    )
    return plan, totals


def run_validation(
    engine: Engine,
    plan: sync.SyncPlan,
    totals: sync.IngestCounts,
    as_of: datetime,
    settings: Validation,
) -> RunValidation:
    return validate_run(
        engine,
        plan.run_id,
        settings,
        as_of,
        read=totals.read,
        quarantined=totals.quarantined,
        checks=totals.checks,
        reasons=totals.reasons,
    )


def held(engine: Engine) -> dict[str, HeldRecord]:
    with engine.connect() as conn:
        return {r.key: r for r in held_records(conn)}


def stored_keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r.key for r in conn.execute(select(fact.c.key))}
