"""What a generation run produced, and the small manifest written next to the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from .profile import GeneratorProfile

MANIFEST_NAME = "generator.json"


@dataclass(frozen=True)
class GenerationSummary:
    """Counts of one run: encounters emitted, resources per type, the as-of instant."""

    out_dir: Path
    as_of: datetime
    encounters: int
    counts: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    """Wall time of the run; kept out of the manifest so output stays byte-identical."""

    @property
    def resources(self) -> int:
        """All resources written."""
        return sum(self.counts.values())


def manifest(profile: GeneratorProfile, summary: GenerationSummary) -> dict[str, Any]:
    """The manifest: the profile that made the data, its as-of instant and counts."""
    return {
        "generator": "chartroute.generate",
        "profile": profile.model_dump(mode="json"),
        "as_of": summary.as_of.isoformat(),
        "encounters": summary.encounters,
        "counts": summary.counts,
        "files": {t: f"{t}.ndjson" for t in summary.counts},
        "config": "practice.yaml",
    }


def write_manifest(profile: GeneratorProfile, summary: GenerationSummary) -> Path:
    """Write ``generator.json`` (stable key order, no timings)."""
    path = summary.out_dir / MANIFEST_NAME
    path.write_bytes(orjson.dumps(manifest(profile, summary), option=orjson.OPT_INDENT_2) + b"\n")
    return path
