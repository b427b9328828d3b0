"""Outputs and keys the user named wrongly are bad input (exit 2 naming what), not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chartroute.cli.errors import EXIT_BAD_INPUT, exit_codes
from chartroute.cli.main import app
from chartroute.config.ehr import Ehr
from chartroute.fhirclient.connect import connect
from chartroute.fhirclient.errors import UnusableKey
from tests.conftest import ROOT

CONFIG = str(ROOT / "config" / "practice.yaml")


def test_generate_onto_an_existing_file_exits_2_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("keep me")
    result = CliRunner().invoke(app, ["generate", str(target), "--days", "1", "--providers", "1"])
    assert result.exit_code == 2
    assert f"OUT_DIR: {target} exists and is not a folder" in result.stderr
    assert target.read_text() == "keep me"


def test_report_out_onto_an_existing_file_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    target = tmp_path / "report.html"
    target.write_text("keep me")
    result = CliRunner().invoke(app, ["report", "--out", str(target), "--config", CONFIG])
    assert result.exit_code == 2
    assert f"--out: {target} exists and is not a folder" in result.stderr


@pytest.mark.parametrize("key", ["not a key", '{"keys": []}', "-----BEGIN PRIVATE KEY-----\nx"])
def test_an_unusable_smart_key_is_bad_config(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTROUTE_TEST_KEY", key)
    ehr = Ehr(
        base_url="https://ehr.test/fhir",
        auth={
            "kind": "smart-backend",
            "client_id": "c",
            "private_key": {"env": "CHARTROUTE_TEST_KEY"},
            "token_url": "https://ehr.test/token",
        },
    )
    with pytest.raises(UnusableKey, match="private key"):
        connect(ehr)
    with pytest.raises(typer.Exit) as leaving, exit_codes():
        connect(ehr)
    assert leaving.value.exit_code == EXIT_BAD_INPUT


def test_a_missing_key_file_is_bad_config(tmp_path: Path) -> None:
    ehr = Ehr(
        base_url="https://ehr.test/fhir",
        auth={
            "kind": "smart-backend",
            "client_id": "c",
            "private_key_file": str(tmp_path / "none.pem"),
        },
    )
    with pytest.raises(UnusableKey, match="private_key_file"):
        connect(ehr)


def test_a_folder_with_no_records_is_bad_input_for_every_command(tmp_path: Path) -> None:
    from chartroute.sources.ndjson_dir import NdjsonDirSource

    with pytest.raises(typer.Exit) as leaving, exit_codes():
        NdjsonDirSource(tmp_path).partitions()  # what sync, classify and backfill meet
    assert leaving.value.exit_code == EXIT_BAD_INPUT
