"""A generated practice synced into the store, and a review sheet filled from its truth."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.config import PracticeConfig, load_config
from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice
from chartroute.review.sheet import NONE, SheetRow, Verdict
from tests.generate.ndjson_helpers import blockers
from tests.notify.conftest import run_sync

#: Small enough to sync in a fraction of a second, big enough for every category and clinician.
PROFILE = GeneratorProfile(providers=3, days=10, seed=3)


@dataclass(frozen=True)
class Practice:
    summary: GenerationSummary
    config: PracticeConfig
    truth: dict[str, dict[str, set[str]]]  # category -> encounter id -> subjects (generator ids)

    @property
    def folder(self) -> Path:
        return self.summary.out_dir


@pytest.fixture(scope="session")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Practice:
    summary = generate_practice(tmp_path_factory.mktemp("golive"), PROFILE)
    config = load_config(summary.out_dir / "practice.yaml")
    return Practice(summary, config, blockers(summary.out_dir))


@pytest.fixture
def synced(engine: Engine, practice: Practice) -> Engine:
    """The practice synced into the store as of its as-of instant."""
    run_sync(engine, practice.config, practice.folder, practice.summary.as_of)
    return engine


def truth_subject(subject: str) -> str:
    """A work item's subject as the independent reading of the generated data names it."""
    if subject.startswith("form:"):
        return "forms"
    return subject.split("/", 1)[-1]


def true_blockers(practice: Practice, chart: str) -> dict[str, set[str]]:
    """The blockers the generated EHR holds for a chart, by category."""
    enc = chart.split("/", 1)[1]
    return {c: by_enc[enc] for c, by_enc in practice.truth.items() if enc in by_enc}


def fill_from_truth(practice: Practice, rows: list[SheetRow]) -> list[SheetRow]:
    """What a reviewer who reads the EHR perfectly writes on the sheet."""
    filled = []
    for row in rows:
        found = true_blockers(practice, row.chart)
        if row.category == NONE:
            first = sorted(found)[0] if found else ""
            verdict = Verdict.WRONG if found else Verdict.CORRECT
            filled.append(replace(row, verdict=verdict.value, correct_category=first))
            continue
        right = truth_subject(row.subject) in found.get(row.category, set())
        verdict = Verdict.CORRECT if right else Verdict.WRONG
        filled.append(replace(row, verdict=verdict.value))
    return filled
