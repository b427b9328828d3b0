"""The ``review`` section of the practice file: when a category's measured accuracy is enough.

Before a practice goes live its ops lead reviews a sample of chartroute's decisions
(``chartroute review sample``). A category is *ready* when the lower end of its precision's
95% Wilson interval reaches ``min_precision`` over at least ``min_reviewed`` reviewed
blockers: the interval, not the bare ratio, so twenty lucky verdicts do not pass for a
measured rule (docs/go-live.md).
"""

from __future__ import annotations

from pydantic import Field

from chartroute.config.base import StrictModel


class ReviewSettings(StrictModel):
    """What the classification review must show before a category counts as ready."""

    min_precision: float = Field(
        default=0.90,
        gt=0,
        le=1,
        description="Lower bound of the 95% Wilson interval of a category's precision "
        "(correct / reviewed) that makes it ready; with every verdict correct, 35 reviews "
        "reach 0.90.",
    )
    min_reviewed: int = Field(
        default=20,
        ge=1,
        description="Fewest reviewed blockers of a category before it can be ready.",
    )
