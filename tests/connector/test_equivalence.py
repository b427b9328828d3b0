"""A generated practice in a real FHIR server: REST and $export give what its NDJSON gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.generate import GenerationSummary
from chartroute.sources import NdjsonDirSource, open_source
from chartroute.sources.bulk import BulkExportSource
from chartroute.sources.rest import FhirRestSource
from tests.connector.conftest import (
    classify_time,
    ehr_settings,
    practice_config,
    write_practice_yaml,
)
from tests.connector.pipeline import chart_states, preview_records, run_sync, work_items
from tests.connector.sekmet import SekmetServer

pytestmark = pytest.mark.integration


def test_classify_over_rest_and_export_equals_ndjson(
    loaded_server: SekmetServer, practice: GenerationSummary, key_file: Path, tmp_path: Path
) -> None:
    ehr = ehr_settings(loaded_server.base_url, key_file, tmp_path)
    config = practice_config(practice, ehr)
    assert config.ehr is not None
    as_of = classify_time()
    expected = preview_records(NdjsonDirSource(practice.out_dir), config, as_of)
    rest = preview_records(FhirRestSource.from_config(config.ehr), config, as_of)
    bulk = preview_records(BulkExportSource.from_config(config.ehr), config, as_of)
    categories = {b["category"] for r in expected for b in r["blockers"]}  # type: ignore[attr-defined]
    assert len(expected) > 20 and len(categories) == 5
    assert rest == expected
    assert bulk == expected


def test_cli_classify_takes_a_url(
    loaded_server: SekmetServer, practice: GenerationSummary, key_file: Path, tmp_path: Path
) -> None:
    ehr = ehr_settings(loaded_server.base_url, key_file, tmp_path)
    config_file = write_practice_yaml(practice, ehr, tmp_path / "practice.yaml")
    as_of = classify_time().isoformat()
    runner = CliRunner()
    args = ["--config", str(config_file), "--as-of", as_of, "--format", "jsonl"]
    from_folder = runner.invoke(app, ["classify", str(practice.out_dir), *args])
    from_url = runner.invoke(app, ["classify", loaded_server.base_url, *args])
    from_export = runner.invoke(app, ["classify", f"bulk+{loaded_server.base_url}", *args])
    assert from_folder.exit_code == 0, from_folder.output
    lines = [orjson.loads(x) for x in from_folder.stdout.splitlines()]
    assert len(lines) > 20
    assert from_url.exit_code == 0, from_url.output
    assert from_url.stdout == from_folder.stdout
    assert from_export.exit_code == 0, from_export.output
    assert from_export.stdout == from_folder.stdout
    other = runner.invoke(app, ["classify", "http://127.0.0.1:9/fhir", *args])
    assert other.exit_code == 2 and "not the EHR configured" in other.output


def test_sync_over_rest_and_export_equals_ndjson(
    loaded_server: SekmetServer,
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    config = practice_config(practice, ehr_settings(loaded_server.base_url, key_file, tmp_path))
    as_of = classify_time()
    results = {}
    for name, spec in [
        ("ndjson", str(practice.out_dir)),
        ("rest", loaded_server.base_url),
        ("bulk", f"bulk+{loaded_server.base_url}"),
    ]:
        engine = db_factory(name)
        outcome = run_sync(engine, open_source(spec, config), config, as_of)
        assert outcome.ingest.quarantined == 0
        results[name] = (work_items(engine), chart_states(engine), outcome)
    expected_items, expected_charts, reference = results["ndjson"]
    assert reference.classified.opened > 20
    for name in ("rest", "bulk"):
        items, charts, outcome = results[name]
        assert items == expected_items, name
        assert charts == expected_charts, name
        assert outcome.ingest.stored == reference.ingest.stored, name
