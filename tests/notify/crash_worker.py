"""A deliver run that kills its own process (SIGKILL) at a chosen point, for the crash tests.

    python -m tests.notify.crash_worker DB_URL CONFIG CLOCK_ISO [CHANNEL POINT NTH]

POINT is ``before-send`` (claimed, nothing sent), ``after-send`` (the provider has the
message, the outbox does not know) or ``after-lookup`` (a rerun found the earlier attempt and
dies before recording it); NTH counts the channel's sends (or lookups). Without a point the
run completes. SIGKILL leaves no chance to clean up: no ``finally``, no rollback but the
database's own.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime

from chartroute.config import load_config
from chartroute.notify.channels.base import Channel, Lookup, Outgoing
from chartroute.notify.deliver import deliver, open_channels
from chartroute.notify.secrets import env_secrets
from chartroute.store.engine import make_engine


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Killer:
    """Wraps a real channel and kills the process at the chosen point."""

    def __init__(self, inner: Channel, point: str, nth: int) -> None:
        self.name = inner.name
        self.inner = inner
        self.point = point
        self.nth = nth
        self.sends = 0
        self.lookups = 0

    def send(self, message: Outgoing) -> str:
        self.sends += 1
        if self.point == "before-send" and self.sends == self.nth:
            die()
        provider_id = self.inner.send(message)
        if self.point == "after-send" and self.sends == self.nth:
            die()
        return provider_id

    def lookup(self, message: Outgoing) -> Lookup:
        self.lookups += 1
        found = self.inner.lookup(message)
        if self.point == "after-lookup" and self.lookups == self.nth:
            die()
        return found

    def close(self) -> None:
        self.inner.close()


def main(argv: list[str]) -> None:
    url, config_path, clock_iso, *crash = argv
    config = load_config(config_path)
    channels, unavailable = open_channels(config.notify, env_secrets)
    assert not unavailable, unavailable
    if crash:
        target, point, nth = crash
        channels[target] = Killer(channels[target], point, int(nth))
    now = datetime.fromisoformat(clock_iso)
    counts = deliver(make_engine(url), config, clock=lambda: now, channels=channels)
    print(counts)


if __name__ == "__main__":
    main(sys.argv[1:])
