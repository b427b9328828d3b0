"""A folder's files: a record in the wrong file is held, a misnamed file is named with why, a
folder with nothing to read is bad input, and a byte order mark is read through."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.sources.ndjson_dir import NdjsonDirSource, NoRecords
from tests import builders as b
from tests.conftest import ROOT
from tests.validation.helpers import held, ingest, stored_keys

CONFIG = str(ROOT / "config" / "practice.yaml")


def _line(resource: object) -> bytes:
    return orjson.dumps(resource) + b"\n"


@pytest.mark.parametrize("rtype", ["Encounterx", "Encounter ", "Patient", "Condition"])
def test_a_record_of_another_type_than_its_file_is_quarantined(rtype: str) -> None:
    resource = {**b.encounter("e1"), "resourceType": rtype}
    record = SourceRecord("Encounter.ndjson:3", raw=_line(resource), expected_type="Encounter")
    result = decode_record(record)
    assert isinstance(result, Rejected)
    assert result.reasons == ("resourceType: not Encounter, the type its file or search holds",)
    assert result.resource_id is None  # held by location


def test_a_record_of_its_files_type_reads_as_before() -> None:
    record = SourceRecord("Encounter.ndjson:3", raw=_line(b.encounter()), expected_type="Encounter")
    assert isinstance(decode_record(record), Decoded)


def test_every_record_read_is_stored_quarantined_or_skipped(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ravensworth"}]}
    odd = {**b.encounter("e2"), "resourceType": "Encounterx"}
    (feed / "Encounter.ndjson").write_bytes(_line(b.encounter("e1")) + _line(patient) + _line(odd))
    (feed / "single.json").write_bytes(orjson.dumps(patient))
    _, counts = ingest(engine, feed, as_of)
    assert (counts.read, counts.stored, counts.quarantined, counts.skipped_types) == (4, 1, 2, 1)
    assert stored_keys(engine) == {"Encounter/e1"}
    assert set(held(engine)) == {"at:Encounter.ndjson:2", "at:Encounter.ndjson:3"}


def test_misnamed_files_are_named_with_why(tmp_path: Path) -> None:
    for name in [
        "Encounters.ndjson",
        "encounter.ndjson",
        "Foo.ndjson",
        "Encounter.ndjson.bak",
        "Patient.ndjson",
        "manifest.json",
    ]:
        (tmp_path / name).write_bytes(_line(b.encounter()))
    (tmp_path / "Encounter.2.ndjson").write_bytes(_line(b.encounter()))
    source = NdjsonDirSource(tmp_path)
    assert [p.name for p in source.files()] == ["Encounter.2.ndjson"]
    assert source.skipped_files() == [
        "Encounter.ndjson.bak: not .ndjson or .json",
        "Encounters.ndjson: not a FHIR resource type's file name; Encounter.ndjson is read",
        "Foo.ndjson: not named <ResourceType>.ndjson or <ResourceType>.<n>.ndjson",
        "Patient.ndjson: the rules do not read Patient (left unread on purpose)",
        "encounter.ndjson: not a FHIR resource type's file name; Encounter.ndjson is read",
        "manifest.json: export metadata, not data",
    ]


def test_a_folder_with_nothing_to_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NoRecords, match="the folder is empty"):
        NdjsonDirSource(tmp_path).partitions()
    (tmp_path / "Encounter.ndjson").write_bytes(b"")
    (tmp_path / "Encounters.ndjson").write_bytes(_line(b.encounter()))
    with pytest.raises(NoRecords) as info:
        NdjsonDirSource(tmp_path).partitions()
    assert "Encounter.ndjson: empty" in str(info.value)
    assert "Encounters.ndjson: not a FHIR resource type's file name" in str(info.value)
    assert NdjsonDirSource(tmp_path, require_records=False).partitions() == []


def test_classify_of_a_folder_with_no_records_exits_2_saying_why(tmp_path: Path) -> None:
    (tmp_path / "encounter.ndjson").write_bytes(_line(b.encounter()))
    result = CliRunner().invoke(app, ["classify", str(tmp_path), "--config", CONFIG])
    assert result.exit_code == 2
    assert "no records to read" in result.stderr and "encounter.ndjson" in result.stderr


def test_classify_names_a_skipped_file_and_reads_the_rest(tmp_path: Path) -> None:
    b.write_ndjson(tmp_path, [b.encounter("e1", reason=False)])
    (tmp_path / "Encounters.ndjson").write_bytes(_line(b.encounter("e2", reason=False)))
    result = CliRunner().invoke(
        app,
        [
            "classify",
            str(tmp_path),
            "--config",
            CONFIG,
            "--as-of",
            "2026-03-10",
            "--format",
            "jsonl",
        ],
    )
    assert result.exit_code == 0
    assert [json.loads(x)["encounter"] for x in result.stdout.splitlines()] == ["Encounter/e1"]
    assert "skipped file Encounters.ndjson" in result.stderr


def test_a_leading_byte_order_mark_is_read_through(
    sqlite_engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    bom = b"\xef\xbb\xbf"
    (feed / "Encounter.ndjson").write_bytes(
        bom + _line(b.encounter("e1")).replace(b"\n", b"\r\n") + _line(b.encounter("e2"))
    )
    (feed / "bundle.json").write_bytes(
        bom + orjson.dumps({"resourceType": "Bundle", "entry": [{"resource": b.order("s1")}]})
    )
    _, counts = ingest(sqlite_engine, feed, as_of)
    assert counts.quarantined == 0
    assert stored_keys(sqlite_engine) == {"Encounter/e1", "Encounter/e2", "ServiceRequest/s1"}


def test_a_bundle_entry_that_is_not_an_object_is_held(
    sqlite_engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    entries = [{"resource": b.encounter("e1")}, "Peregrin Ravensworth", 7]
    (feed / "bundle.json").write_bytes(orjson.dumps({"resourceType": "Bundle", "entry": entries}))
    _, counts = ingest(sqlite_engine, feed, as_of)
    assert (counts.read, counts.stored, counts.quarantined) == (3, 1, 2)
    assert set(held(sqlite_engine)) == {"at:bundle.json#entry[1]", "at:bundle.json#entry[2]"}
