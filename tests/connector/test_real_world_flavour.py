"""A real-world shaped practice (conditional NPI references, roles, superseded notes, old
history) read from a FHIR server over REST and $export gives what its NDJSON gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.sources.bulk import BulkExportSource
from chartroute.sources.rest import FhirRestSource
from tests.connector.conftest import classify_time, ehr_settings, practice_config
from tests.connector.pipeline import preview_records
from tests.connector.sekmet import SekmetServer, read_ndjson_dir

pytestmark = pytest.mark.integration


def test_rest_and_export_resolve_as_the_folder_does(
    sekmet: Callable[..., SekmetServer], key_file: Path, tmp_path: Path
) -> None:
    profile = GeneratorProfile(
        providers=2, days=3, seed=1, patients_per_provider=10, flavour="real-world"
    )
    practice: GenerationSummary = generate_practice(tmp_path / "practice", profile)
    server = sekmet()
    server.load(read_ndjson_dir(practice.out_dir))
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path))
    assert config.ehr is not None
    as_of = classify_time()
    expected = preview_records(NdjsonDirSource(practice.out_dir), config, as_of)
    assert len(expected) > 10
    assert preview_records(FhirRestSource.from_config(config.ehr), config, as_of) == expected
    assert preview_records(BulkExportSource.from_config(config.ehr), config, as_of) == expected
