"""Every resource type validates against the FHIR R4 (R4B) models, in every state it takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from chartroute.generate import RESOURCE_TYPES

from .ndjson_helpers import read

STRIDE_SAMPLE = 25
PER_STATE = 3


def _state(resource: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two resources of a type structurally different."""
    return (
        resource.get("status"),
        resource.get("docStatus"),
        resource.get("outcome"),
        resource.get("use"),
        tuple(sorted(resource)),
    )


def _sample(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A few of each distinct state plus an even spread over the file."""
    by_state: dict[tuple[Any, ...], int] = {}
    picked: list[dict[str, Any]] = []
    step = max(1, len(resources) // STRIDE_SAMPLE)
    for i, resource in enumerate(resources):
        state = _state(resource)
        seen = by_state.get(state, 0)
        if seen < PER_STATE or i % step == 0:
            picked.append(resource)
            by_state[state] = seen + 1
    return picked


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_sample_validates_with_r4b_models(default_dir: Path, resource_type: str) -> None:
    resources = read(default_dir, resource_type)
    assert resources, f"default practice has no {resource_type}"
    model = get_fhir_model_class(resource_type)
    for resource in _sample(resources):
        assert resource["resourceType"] == resource_type
        model.model_validate(resource)


def test_ids_are_unique_per_type(default_dir: Path) -> None:
    for resource_type in RESOURCE_TYPES:
        ids = [r["id"] for r in read(default_dir, resource_type)]
        assert len(ids) == len(set(ids)), resource_type


def test_lines_are_compact_json_with_stable_key_order(default_dir: Path) -> None:
    first = (default_dir / "Encounter.ndjson").read_bytes().split(b"\n", 1)[0]
    assert first.startswith(b'{"resourceType":"Encounter","id":"enc-000001","meta":')
    assert orjson.dumps(orjson.loads(first)) == first
