"""The routing pipeline each simulated evening runs: sync, deliver, sweep, and the worklists.

``RoutingPipeline`` is what the simulation needs from chartroute; two implementations exist.
``StagePipeline`` (here) runs the sync's stage sequence in this process (``SyncHere``), then
the escalation sweep and delivery; the Prefect one (``flows/simulate.py``) runs the real
``chartroute-sync`` and ``chartroute-escalate`` flows. A test runs both on the
same practice and requires the same days from each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, func, select

from chartroute.config import PracticeConfig
from chartroute.notify.deliver import deliver
from chartroute.sources import open_source
from chartroute.store.engine import make_engine
from chartroute.store.schema import fact, work_item
from chartroute.sweep import run_sweep
from chartroute.sync_here import SyncHere
from chartroute.sync_sequence import run_sync
from chartroute.worklist import worklist


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One open work item on the practice's worklist after the evening's runs: who holds it and
    its rank in the priority order (identifiers only, no chart content)."""

    encounter: str
    category: str
    subject: str
    role: str
    assignee: str | None
    priority: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.encounter, self.category, self.subject)


@dataclass(slots=True)
class Evening:
    """What the pipeline did on one evening, and the open items it left."""

    items: list[WorklistEntry]
    escalated: int = 0
    notifications: int = 0


class RoutingPipeline(Protocol):
    """Sync the simulated EHR at ``as_of``, deliver, sweep; report the open work items."""

    def evening(self, as_of: datetime) -> Evening: ...


def open_work_items(engine: Engine, as_of: datetime) -> list[WorklistEntry]:
    """Every open item with its assignee and its rank in the practice's priority order."""
    with engine.connect() as conn:
        return [
            WorklistEntry(
                row["encounter"],
                row["category"],
                row["subject"],
                row["role"],
                row["assignee"],
                row["priority"],
            )
            for row in worklist(conn, as_of)
        ]


class StagePipeline:
    """The flows' stages in this process: the same sequence, store and rules, no Prefect runs."""

    def __init__(self, engine: Engine, source_dir: Path, config: PracticeConfig) -> None:
        self.engine = engine
        self.source_dir = source_dir
        self.config = config

    def evening(self, as_of: datetime) -> Evening:
        engine, config = self.engine, self.config
        source = open_source(str(self.source_dir))
        run_sync(SyncHere(engine, source, config, as_of, clock=lambda: as_of), config)
        swept = run_sweep(engine, config, as_of, f"sim-sweep-{as_of.isoformat()}")
        deliver(engine, config, clock=lambda: as_of)
        return Evening(
            items=open_work_items(engine, as_of),
            escalated=swept.escalated,
            notifications=swept.notifications,
        )


SIM_DATABASE_ENV = "CHARTROUTE_SIM_DATABASE_URL"


def sim_database_url(workdir: Path) -> str:
    """The simulation's store: the empty database the env names, else a SQLite file in
    ``workdir`` (never the practice's own store)."""
    return os.environ.get(SIM_DATABASE_ENV) or f"sqlite:///{(workdir / 'simulation.db').resolve()}"


class StoreNotEmpty(RuntimeError):
    """The simulation would mix its invented charts into a store that holds other data."""


def fresh_store(url: str) -> Engine:
    """A migrated engine on an empty store: a SQLite file is recreated, any other database must
    already be empty (the simulation never deletes data it did not write)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :])
        path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        used = conn.execute(select(func.count()).select_from(fact)).scalar_one()
        used += conn.execute(select(func.count()).select_from(work_item)).scalar_one()
    if used:
        engine.dispose()
        raise StoreNotEmpty(
            f"the simulation's database ({engine.url.render_as_string(hide_password=True)}) "
            "already holds facts or work items; give it an empty database"
        )
    return engine
