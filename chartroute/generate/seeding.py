"""Independent random streams derived from the profile seed.

Each encounter, each patient and the roster draw from their own ``random.Random``, seeded by
(seed, stream, index). One encounter's draws therefore never depend on how many others were
drawn before it, which is what makes a shorter as-of run a prefix of a longer one and keeps
output identical whatever the generation order.
"""

from __future__ import annotations

import random
from typing import Literal

Stream = Literal["encounter", "patient", "roster", "simulate"]
_STREAM_NUMBERS: dict[str, int] = {"encounter": 1, "patient": 2, "roster": 3, "simulate": 4}
_INDEX_BITS = 40


def stream_rng(seed: int, stream: Stream, index: int = 0) -> random.Random:
    """A generator for item ``index`` of ``stream`` under ``seed``.

    Seeds are packed into one integer (integer seeding is stable across Python versions and
    several times cheaper than hashing a string): a zig-zag of the seed so negative seeds stay
    distinct, four bits of stream, forty bits of index.
    """
    if not 0 <= index < 1 << _INDEX_BITS:
        raise ValueError(f"index {index} out of range")
    zigzag = seed * 2 if seed >= 0 else -seed * 2 - 1
    return random.Random((((zigzag << 4) | _STREAM_NUMBERS[stream]) << _INDEX_BITS) | index)
