"""Memory stays flat as the practice grows: resources are streamed, never collected."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.generate.people import patient_facts


def _peak_bytes(out_dir: Path, profile: GeneratorProfile) -> int:
    patient_facts.cache_clear()
    tracemalloc.start()
    try:
        generate_practice(out_dir, profile)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_encounters(tmp_path: Path) -> None:
    small = GeneratorProfile(providers=2, days=4, patients_per_provider=200)
    big = small.model_copy(update={"days": 48})  # twelve times the encounters
    generate_practice(tmp_path / "warm", small)  # imports and one-off caches
    small_peak = _peak_bytes(tmp_path / "small", small)
    big_peak = _peak_bytes(tmp_path / "big", big)
    assert big_peak < small_peak * 1.5 + 512 * 1024, (small_peak, big_peak)
