"""The ``ehr:`` config section: vendor profiles, overrides, secrets by name only, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import respx
import yaml
from httpx import Response

from chartroute.config import ConfigError, load_config_text
from chartroute.config.ehr import Ehr, SecretRef, SecretUnavailable, vendor_profiles
from chartroute.fhirclient.connect import connect
from chartroute.fhirclient.errors import Fatal
from chartroute.sources import ehr_for, is_url_spec, open_source
from chartroute.sources.bulk import BulkExportSource
from chartroute.sources.rest import FhirRestSource
from tests.conftest import ROOT
from tests.connector.keys import make_key


def practice_with(ehr: Any) -> str:
    data = yaml.safe_load((ROOT / "config" / "practice.yaml").read_text())
    data["ehr"] = ehr
    return yaml.safe_dump(data, sort_keys=False)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as failure:
        load_config_text(text, "practice.yaml")
    return [str(p) for p in failure.value.problems]


def test_every_shipped_vendor_profile_loads_and_is_documented() -> None:
    profiles = vendor_profiles()
    assert {"generic", "athenahealth", "eclinicalworks", "nextgen", "oracle-health", "epic"} <= set(
        profiles
    )
    docs = (ROOT / "docs" / "connectors.md").read_text()
    for name, profile in profiles.items():
        assert profile.description and f"`{name}`" in docs
    assert profiles["oracle-health"].last_updated == ["Encounter"]
    assert profiles["epic"].headers == {"Epic-Client-ID": "{client_id}"}
    assert profiles["athenahealth"].bulk_for_daily_sync is False


def test_a_practice_file_with_an_ehr_section_loads() -> None:
    config = load_config_text(
        practice_with(
            {
                "base_url": "https://fhir.example.org/r4/",
                "vendor": "epic",
                "profile": {"page_size": 50},
                "auth": {
                    "kind": "smart-backend",
                    "client_id": "abc",
                    "private_key": {"env": "EPIC_KEY"},
                },
                "writeback": {"enabled": True},
            }
        )
    )
    assert config.ehr is not None
    assert config.ehr.base_url == "https://fhir.example.org/r4"
    assert config.ehr.resolved_profile().page_size == 50
    assert config.ehr.resolved_profile().token_400_is_temporary is True
    assert config.ehr.scopes() == ["system/*.rs", "system/Task.cu"]


@pytest.mark.parametrize(
    ("ehr", "field", "message"),
    [
        ({"base_url": "ftp://x"}, "ehr.base_url", "pattern"),
        ({"base_url": "https://x", "vendor": "cerner-2009"}, "ehr", "unknown profile"),
        ({"base_url": "https://x", "profile": {"page_size": 0}}, "ehr", "profile.page_size"),
        (
            {
                "base_url": "https://x",
                "auth": {"kind": "smart-backend", "private_key_file": "k.pem"},
            },
            "ehr.auth",
            "client_id",
        ),
        (
            {"base_url": "https://x", "auth": {"kind": "bearer", "token": "s3cret"}},
            "ehr.auth.token",
            "valid dictionary",
        ),
        (
            {
                "base_url": "https://x",
                "auth": {
                    "kind": "basic",
                    "username": "u",
                    "password": {"env": "A", "prefect_secret": "b"},
                },
            },
            "ehr.auth.password",
            "exactly one",
        ),
        ({"base_url": "https://x", "bulk": {"level": "group"}}, "ehr.bulk", "group_id"),
        (
            {"base_url": "https://x", "profile": {"unavailable_types": ["Patient"]}},
            "ehr",
            "not a type the rules read",
        ),
    ],
)
def test_config_mistakes_name_the_field_and_line(
    ehr: dict[str, Any], field: str, message: str
) -> None:
    found = problems(practice_with(ehr))
    assert any(f": {field}: " in p and message in p for p in found), found
    assert all(p.startswith("practice.yaml:") and p.split(":")[1].isdigit() for p in found)


def test_secrets_resolve_from_the_environment_or_a_block_loader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EHR_TOKEN", "t0k")
    assert SecretRef(env="EHR_TOKEN").resolve() == "t0k"
    assert (
        SecretRef(prefect_secret="ehr-token").resolve(lambda name: f"from {name}")
        == "from ehr-token"
    )
    monkeypatch.delenv("EHR_TOKEN")
    with pytest.raises(SecretUnavailable, match="EHR_TOKEN is not set"):
        SecretRef(env="EHR_TOKEN").resolve()
    with pytest.raises(SecretUnavailable, match="needs Prefect"):
        SecretRef(prefect_secret="ehr-token").resolve()


@respx.mock
def test_connect_reads_secrets_and_applies_the_vendor_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EHR_TOKEN", "t0k")
    ehr = Ehr(
        base_url="https://ehr.test/fhir",
        vendor="epic",
        auth={"kind": "bearer", "token": {"env": "EHR_TOKEN"}, "client_id": "cid-1"},
    )
    route = respx.get("https://ehr.test/fhir/metadata").mock(return_value=Response(200, json={}))
    http = connect(ehr)
    http.request("GET", http.url("metadata"))
    sent = route.calls.last.request.headers
    assert sent["Authorization"] == "Bearer t0k" and sent["Epic-Client-ID"] == "cid-1"
    assert http.limiter.rate == vendor_profiles()["epic"].requests_per_second

    monkeypatch.delenv("EHR_TOKEN")
    with pytest.raises(Fatal, match="EHR_TOKEN") as failure:
        connect(ehr)
    assert "t0k" not in str(failure.value)

    key = tmp_path / "key.pem"
    key.write_text(make_key("ec", "e").private_pem)
    smart = Ehr(
        base_url="https://ehr.test/fhir",
        auth={
            "kind": "smart-backend",
            "client_id": "c",
            "private_key_file": str(key),
            "token_url": "https://ehr.test/t",
        },
    )
    assert connect(smart).auth.__class__.__name__ == "SmartBackendAuth"
    missing = Ehr(
        base_url="https://ehr.test/fhir",
        auth={
            "kind": "smart-backend",
            "client_id": "c",
            "private_key_file": str(tmp_path / "none.pem"),
        },
    )
    with pytest.raises(Fatal, match="private_key_file"):
        connect(missing)


def test_source_specs_pick_the_source_and_refuse_other_servers(tmp_path: Path) -> None:
    assert is_url_spec("https://ehr.test/fhir") and is_url_spec("bulk+http://127.0.0.1:1/fhir")
    assert not is_url_spec(str(tmp_path))
    assert isinstance(open_source("https://ehr.test/fhir"), FhirRestSource)
    assert isinstance(open_source("bulk+https://ehr.test/fhir"), BulkExportSource)
    config = load_config_text(practice_with({"base_url": "https://ehr.test/fhir"}))
    assert ehr_for("https://ehr.test/fhir/", config).base_url == "https://ehr.test/fhir"
    with pytest.raises(ValueError, match="not the EHR configured"):
        ehr_for("https://other.test/fhir", config)


def test_cli_refuses_a_url_that_is_not_the_configured_ehr(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chartroute.cli.main import app

    config = tmp_path / "practice.yaml"
    config.write_text(practice_with({"base_url": "https://ehr.test/fhir"}))
    for command in (["sync", "--source"], ["classify"]):
        result = CliRunner().invoke(
            app, [*command, "https://other.test/fhir", "--config", str(config)]
        )
        assert result.exit_code == 2 and "not the EHR configured" in result.output
    bulk = CliRunner().invoke(
        app, ["sync", "--source", "bulk+https://other.test/fhir", "--config", str(config)]
    )
    assert bulk.exit_code == 2
