"""The store's own decoder of fact rows gives exactly what the generic one gives."""

from __future__ import annotations

from pathlib import Path

import orjson

from chartroute.fhir.facts import FACT_CLASSES, fact_from_json, fact_to_json
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.sources.decode import Decoded, decode_record
from chartroute.store.fact_rows import _DECODERS, fact_of_row


def test_every_fact_of_a_real_world_practice_decodes_as_fact_from_json_does(
    tmp_path: Path,
) -> None:
    profile = GeneratorProfile(
        providers=2, days=3, seed=3, patients_per_provider=10, flavour="real-world"
    )
    source = NdjsonDirSource(generate_practice(tmp_path, profile).out_dir)
    facts = [
        f
        for partition in source.partitions()
        for record in source.read(partition)
        for item in [decode_record(record)]
        if isinstance(item, Decoded)
        for f in item.facts
    ]
    assert {f.kind for f in facts} >= {"Encounter", "Note", "Clinician", "Claim", "Order"}
    for f in facts:
        body = fact_to_json(f)
        decoded = fact_of_row(body)
        assert decoded == fact_from_json(body) == f
        assert type(decoded) is type(f)
        assert [type(getattr(decoded, n)) for n in f.__slots__] == [
            type(getattr(f, n)) for n in f.__slots__
        ]


def test_every_kind_has_a_compiled_decoder() -> None:
    assert set(_DECODERS) == set(FACT_CLASSES)


def test_a_row_of_another_shape_goes_through_the_generic_decoder() -> None:
    """A row written before a field existed, or with a value of an unexpected type."""
    old = b'{"key":"Practitioner/p","version":null,"updated_at":null,"practitioner":null,'
    old += b'"kind":"Clinician"}'
    assert fact_of_row(old) == fact_from_json(old)
    odd = orjson.loads(old)
    odd["links"] = None  # no tuple can be made of it: the generic path decides
    assert fact_of_row(orjson.dumps(odd)) == fact_from_json(orjson.dumps(odd))
