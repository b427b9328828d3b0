"""One sync or deliver run that may kill its own process (SIGKILL) at a chosen point.

    python bench/chaos/worker.py sync|deliver DB_URL SOURCE CONFIG AS_OF [POINT:N]

POINT is ``migration`` (after the Nth table of the first migration), ``lease`` (just after
taking the sync lease), ``scan`` (after the Nth stored batch), ``classify`` (before the Nth
chart batch is written) or ``deliver`` (after the Nth message reached the receiver, before the
outbox knows). The runner also kills at random instants from outside. Exit 0 when the run
completed, 3 when another run holds the lease, 4 when delivery left work undone.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def after_nth(target: Any, name: str, nth: int, before: bool = False) -> None:
    """Wrap ``target.name`` so that its Nth call kills the process (before or after it runs)."""
    real = getattr(target, name)
    calls = [0]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if before and calls[0] == nth:
            die()
        result = real(*args, **kwargs)
        if not before and calls[0] == nth:
            die()
        return result

    setattr(target, name, wrapped)


def arm(point: str, nth: int) -> None:
    from alembic.operations import Operations

    from chartroute import sync
    from chartroute.notify.channels import webhook

    if point == "migration":
        after_nth(Operations, "create_table", nth)
    elif point == "scan":
        after_nth(sync, "store_batch", nth)
    elif point == "classify":
        after_nth(sync.fact_store, "load_charts", nth, before=True)
    elif point == "deliver":
        after_nth(webhook.WebhookChannel, "send", nth)


def main(argv: list[str]) -> int:
    mode, url, source, config_path, as_of_text = argv[:5]
    point, _, nth = (argv[5] if len(argv) > 5 else "none:0").partition(":")
    arm(point, int(nth))

    from chartroute.config import load_config
    from chartroute.notify.deliver import deliver
    from chartroute.sources import NdjsonDirSource
    from chartroute.store.engine import make_engine
    from chartroute.store.lease import LeaseHeld, LeaseKeeper, acquire, default_holder
    from chartroute.store.runs import SYNC_LEASE
    from chartroute.sync_here import SyncHere
    from chartroute.sync_sequence import run_sync

    config = load_config(config_path)
    engine = make_engine(url)
    if mode == "deliver":
        counts = deliver(engine, config)
        return 4 if counts.undelivered() else 0
    as_of = datetime.fromisoformat(as_of_text)
    try:
        held = acquire(engine, SYNC_LEASE, default_holder())
    except LeaseHeld:
        return 3
    if point == "lease":
        die()
    keeper = LeaseKeeper(engine, held)
    stages = SyncHere(engine, NdjsonDirSource(source), config, as_of)
    outcome = run_sync(stages, config, deliver=not os.environ.get("CHAOS_NO_DELIVER"))
    keeper.release()
    delivered = outcome.delivered
    return 4 if delivered is not None and delivered.undelivered() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
