"""A simulated practice shared by the report tests: eight clinic days of evening syncs."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.store.engine import make_engine
from tests.report.simulate import SimulatedPractice, simulate


@dataclass
class Simulation:
    engine: Engine
    url: str
    practice: SimulatedPractice
    workdir: Path


@pytest.fixture(scope="session")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulation]:
    workdir = tmp_path_factory.mktemp("practice")
    url = f"sqlite:///{workdir / 'chartroute.db'}"
    engine = make_engine(url)
    patch = pytest.MonkeyPatch()
    try:
        practice = simulate(engine, workdir, patch, providers=2, days=8)
        yield Simulation(engine, url, practice, workdir)
    finally:
        patch.undo()
        engine.dispose()


def phi_strings(source_dir: Path) -> set[str]:
    """Every patient name, birth date, diagnosis and reason text, and note text in the source."""
    found: set[str] = set()

    def lines(kind: str) -> Iterator[dict]:  # type: ignore[type-arg]
        path = source_dir / f"{kind}.ndjson"
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    yield json.loads(line)

    def concept_texts(concept: dict) -> list[str]:  # type: ignore[type-arg]
        texts = [concept.get("text", "")]
        texts += [c.get("display", "") for c in concept.get("coding", [])]
        return [t for t in texts if t]

    for patient in lines("Patient"):
        found.add(patient["birthDate"])
        for name in patient.get("name", []):
            found.update(name.get("given", []))
            if name.get("family"):
                found.add(name["family"])
            if name.get("text"):
                found.add(name["text"])
    for condition in lines("Condition"):
        found.update(concept_texts(condition.get("code", {})))
    for encounter in lines("Encounter"):
        for reason in encounter.get("reasonCode", []):
            found.update(concept_texts(reason))
    for doc in lines("DocumentReference"):
        for content in doc.get("content", []):
            data = content.get("attachment", {}).get("data")
            if data:
                found.add(base64.b64decode(data).decode("utf-8"))
    return {s for s in found if len(s) >= 4}


def leaked(text: str, phi: set[str]) -> list[str]:
    return sorted(s for s in phi if s in text)
