"""What a ``kill -9`` leaves behind is cleaned by the next run: sync runs stuck ``running``
are closed as ``crashed``, an outbox claim whose worker is gone is taken over at once, and the
file channel's half-written temporary files are deleted."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from chartroute.config import PracticeConfig
from chartroute.config.notify import FileChannel as FileChannelConfig
from chartroute.notify.channels.file import FileChannel
from chartroute.notify.outbox_claims import claim_next
from chartroute.store import runs
from chartroute.store.lease import acquire, default_holder
from chartroute.store.owners import this_host
from chartroute.store.schema import outbox_message, sync_run
from tests.notify.conftest import AS_OF
from tests.notify.test_delivery import Clock, enqueue_runs


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.source: r.status for r in conn.execute(select(sync_run))}


def test_runs_whose_process_is_gone_are_closed_as_crashed(engine: Engine) -> None:
    with engine.begin() as conn:
        runs.start_run(conn, "killed", AS_OF, AS_OF, f"{this_host()}:{dead_pid()}:run-1")
        runs.start_run(conn, "alive", AS_OF, AS_OF, default_holder("run-2"))
        runs.start_run(conn, "elsewhere-lost", AS_OF, AS_OF, "other-host:12:run-3")
        runs.start_run(conn, "elsewhere-backfill", AS_OF, AS_OF, "other-host:13")
    acquire(engine, runs.SYNC_LEASE, "other-host:14:run-4")  # someone else's live sync
    with engine.begin() as conn:
        assert runs.close_crashed_runs(conn, AS_OF) == 2
    assert statuses(engine) == {
        "killed": "crashed",
        "alive": "running",
        "elsewhere-lost": "crashed",  # its lease passed to another run
        "elsewhere-backfill": "running",  # took no lease: nothing tells it is gone
    }


def test_a_claim_whose_worker_was_killed_is_taken_over_before_its_lease_expires(
    engine: Engine, file_config: PracticeConfig
) -> None:
    clock = Clock(AS_OF)
    enqueue_runs(engine, file_config, 1, clock)
    delivery = file_config.notify.delivery
    first = claim_next(engine, clock(), delivery, {"file"})
    second = claim_next(engine, clock(), delivery, {"file"})
    assert first is not None and second is not None
    assert claim_next(engine, clock(), delivery, {"file"}) is None  # both held, leases live
    with engine.begin() as conn:  # the worker holding the first is killed
        conn.execute(
            update(outbox_message)
            .where(outbox_message.c.id == first.message.id)
            .values(claimed_by=f"{this_host()}:{dead_pid()}")
        )
    clock.advance(seconds=1)
    again = claim_next(engine, clock(), delivery, {"file"})
    assert again is not None and again.message.id == first.message.id and again.reconcile
    assert clock() < AS_OF + timedelta(seconds=delivery.lease_seconds)


def test_the_file_channel_deletes_what_a_killed_writer_left(tmp_path: Path) -> None:
    person = tmp_path / "out" / "dr-avery"
    person.mkdir(parents=True)
    orphan = person / f".abc.txt.{dead_pid()}.tmp"
    live = person / f".def.txt.{default_holder().split(':')[1]}.tmp"
    orphan.write_text("half")
    live.write_text("being written")
    FileChannel("file", FileChannelConfig(path=str(tmp_path / "out")))
    assert not orphan.exists() and live.exists()


def test_a_lease_whose_holder_on_this_host_was_killed_is_taken_at_once(engine: Engine) -> None:
    from chartroute.store.lease import LeaseHeld

    acquire(engine, runs.SYNC_LEASE, f"{this_host()}:{dead_pid()}:run-1")
    held = acquire(engine, runs.SYNC_LEASE, default_holder("run-2"))  # not after 2 minutes
    assert held.holder == default_holder("run-2")
    try:
        acquire(engine, runs.SYNC_LEASE, "other-host:1:run-3")
    except LeaseHeld:
        pass
    else:
        raise AssertionError("a live holder's lease was taken")
