"""The database lease on SQLite and PostgreSQL: one holder at a time, expiry, takeover, races."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from chartroute.store.lease import (
    LeaseHeld,
    LeaseKeeper,
    acquire,
    holder_of,
    release,
    renew,
)

T0 = datetime(2026, 3, 5, 12, tzinfo=UTC)
TTL = timedelta(minutes=2)


def test_one_holder_at_a_time(engine: Engine) -> None:
    first = acquire(engine, "sync", "server-a", TTL, T0)
    with pytest.raises(LeaseHeld, match="held by server-a until 2026-03-05T12:02"):
        acquire(engine, "sync", "server-b", TTL, T0 + timedelta(minutes=1))
    assert holder_of(engine, "sync") == ("server-a", T0 + TTL)
    # another name is independent
    acquire(engine, "sweep", "server-b", TTL, T0)
    assert release(engine, first)
    acquire(engine, "sync", "server-b", TTL, T0 + timedelta(minutes=1))


def test_an_expired_lease_can_be_taken_over_and_the_old_holder_loses_it(engine: Engine) -> None:
    old = acquire(engine, "sync", "server-a", TTL, T0)
    new = acquire(engine, "sync", "server-b", TTL, T0 + TTL)  # expiry is inclusive
    assert new.token != old.token
    assert renew(engine, old, TTL, T0 + TTL) is None
    assert not release(engine, old)
    assert holder_of(engine, "sync") == ("server-b", T0 + 2 * TTL)


def test_renewal_keeps_others_out(engine: Engine) -> None:
    held = acquire(engine, "sync", "server-a", TTL, T0)
    renewed = renew(engine, held, TTL, T0 + timedelta(minutes=1, seconds=50))
    assert renewed is not None and renewed.expires_at == T0 + timedelta(minutes=3, seconds=50)
    with pytest.raises(LeaseHeld):
        acquire(engine, "sync", "server-b", TTL, T0 + timedelta(minutes=3))


def test_the_same_holder_may_take_it_again(engine: Engine) -> None:
    """A retried flow run is the same holder: it must not lock itself out."""
    first = acquire(engine, "sync", "host:1:run-1", TTL, T0)
    second = acquire(engine, "sync", "host:1:run-1", TTL, T0 + timedelta(seconds=5))
    assert second.token != first.token
    assert renew(engine, first, TTL, T0) is None  # only the newest token counts


def test_racing_contenders_get_exactly_one_winner(engine: Engine) -> None:
    """Eight threads, each on its own connection, try at once; repeat with an expired row."""
    for round_ in range(6):
        start = threading.Barrier(8)
        winners: list[str] = []
        losers: list[str] = []
        at = T0 + round_ * 2 * TTL  # each round finds the previous round's lease expired

        def contend(
            n: int, at: datetime, start: threading.Barrier, winners: list[str], losers: list[str]
        ) -> None:
            start.wait()
            try:
                acquire(engine, "race", f"contender-{n}", TTL, at)
                winners.append(f"contender-{n}")
            except LeaseHeld:
                losers.append(f"contender-{n}")

        threads = [
            threading.Thread(target=contend, args=(n, at, start, winners, losers)) for n in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1, (round_, winners)
        assert len(losers) == 7
        assert holder_of(engine, "race") == (winners[0], at + TTL)


def test_keeper_renews_until_released(engine: Engine) -> None:
    ttl = timedelta(seconds=0.6)
    held = acquire(engine, "sync", "server-a", ttl)
    keeper = LeaseKeeper(engine, held, ttl)
    time.sleep(1.5)  # several renewals; without them the lease would have expired
    with pytest.raises(LeaseHeld):
        acquire(engine, "sync", "server-b", ttl)
    assert not keeper.lost
    assert keeper.release()
    acquire(engine, "sync", "server-b", ttl)


def test_keeper_notices_a_lost_lease(engine: Engine) -> None:
    ttl = timedelta(seconds=0.6)
    held = acquire(engine, "sync", "server-a", ttl)
    keeper = LeaseKeeper(engine, held, ttl)
    release(engine, held)  # e.g. taken over after a long pause
    deadline = time.monotonic() + 5
    while not keeper.lost and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keeper.lost
    assert not keeper.release()


def test_the_state_hook_releases_a_run_s_lease_called_as_the_runner_calls_it(
    engine: Engine,
) -> None:
    """The runner serving deployments calls a cancelled run's hooks by keyword; the hook's
    second parameter was named ``flow_run_``, so every such call failed with a TypeError."""
    from types import SimpleNamespace

    from chartroute.store.lease import default_holder
    from chartroute.tasks import lease as lease_tasks

    ttl = timedelta(seconds=30)
    held = acquire(engine, "sync", default_holder("run-1"), ttl)
    lease_tasks._keepers[held.token] = LeaseKeeper(engine, held, ttl)
    lease_tasks.release_leases(flow=None, flow_run=SimpleNamespace(id="run-1"), state=None)
    assert held.token not in lease_tasks._keepers
    assert holder_of(engine, "sync") is None
