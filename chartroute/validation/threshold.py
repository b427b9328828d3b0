"""The bad-record threshold: when a feed is too broken to route work from.

A few bad records are normal and are quarantined while the rest flows on. A large share of bad
records means the feed itself is broken — a vendor upgrade, a truncated export, a mapping
change — and routing work from what is left would mislead people, so the run stops loudly
instead. The share is of the records read in the run; equal to the limit still passes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BadShare:
    """How many of the records read in a run were quarantined, against the limit."""

    read: int
    bad: int
    limit: float

    @property
    def share(self) -> float:
        return self.bad / self.read if self.read else 0.0

    @property
    def exceeded(self) -> bool:
        return self.share > self.limit

    def describe(self) -> str:
        """One line with counts only (no record content), for logs, stderr and artifacts."""
        return (
            f"{self.bad} of {self.read} records quarantined ({self.share:.2%}); "
            f"limit validation.max_bad_share = {self.limit:.2%}"
        )


class TooManyBadRecords(Exception):
    """Raised to fail a run whose feed is too broken to route work from."""

    def __init__(self, share: BadShare, where: str = "run", *, quarantined: bool = True):
        # Only a run that stores its bad records can point at `chartroute quarantine`; a
        # preview (classify) writes nothing, and has listed them itself.
        listed = (
            "see `chartroute quarantine`" if quarantined else "its bad records are listed above"
        )
        super().__init__(
            f"{where} stopped: {share.describe()}; nothing was routed. Fix the feed ({listed}) "
            "or raise the limit in the practice file."
        )
        self.share = share


def check_bad_share(read: int, bad: int, limit: float, where: str = "run") -> BadShare:
    """The run's share of bad records; raises ``TooManyBadRecords`` above ``limit``."""
    share = BadShare(read, bad, limit)
    if share.exceeded:
        raise TooManyBadRecords(share, where)
    return share
