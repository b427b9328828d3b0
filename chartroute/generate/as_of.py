"""The EHR as it stood at the as-of instant: which events had happened, and a resource's meta.

A resource exists only once its first change happened by as_of; ``meta.versionId`` counts its
changes up to as_of and ``meta.lastUpdated`` is the last of them, which is what an incremental
``_lastUpdated`` sync would see.
"""

from __future__ import annotations

from datetime import datetime

from .clinic_time import ClinicClock


class AsOfView:
    """Answers "had this happened by as_of?" for the builders of every resource type."""

    def __init__(self, clock: ClinicClock, as_of: datetime) -> None:
        self.clock = clock
        self.as_of = as_of
        """Naive practice-local wall time."""

    def seen(self, moment: datetime | None) -> bool:
        """Whether an event happened by as_of."""
        return moment is not None and moment <= self.as_of

    def meta(self, *changes: datetime | None) -> dict[str, str]:
        """Version count and last change among the changes that happened by as_of."""
        happened = sorted({c for c in changes if c is not None and c <= self.as_of})
        if not happened:
            raise ValueError("meta() of a resource that does not exist yet")
        return {"versionId": str(len(happened)), "lastUpdated": self.clock.instant(happened[-1])}
