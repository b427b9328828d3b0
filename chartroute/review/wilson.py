"""The Wilson score interval of a proportion: how sure a precision measured on a sample is.

A precision of 19 correct out of 20 reviews is 0.95, but a rule that is right 85% of the time
gives 19 of 20 often enough; the interval says which true precisions the sample cannot tell
apart. Wilson's interval (the inversion of the score test) stays inside [0, 1] and behaves at
0 and n, where the textbook normal interval collapses to a point (Newcombe, Stat Med 1998).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

#: Confidence of the review's intervals.
CONFIDENCE = 0.95


def z_for(confidence: float = CONFIDENCE) -> float:
    """The standard normal quantile of a two-sided interval at ``confidence``."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True, slots=True)
class Interval:
    """A proportion's estimate and its interval."""

    estimate: float
    low: float
    high: float


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval:
    """The Wilson score interval of ``successes`` out of ``trials`` (``trials`` > 0)."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    z = z_for(confidence)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    # At 0 and n the bound is exactly 0 or 1; rounding must not put it a hair outside [0, 1].
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, low, high)
