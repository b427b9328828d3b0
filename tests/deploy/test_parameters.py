"""Flow parameters an engineer can set one at a time, and empty paths refused by name.

Each parameter is one field of the Prefect UI's run form and one ``prefect deployment run
... -p name=value``; a path left empty (an unset ``CHARTROUTE_SOURCE`` at deploy time, ``-p
config=``, ``--config ""``) is refused with a message naming the setting and how to give it,
instead of being read as "this folder".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from prefect.exceptions import ParameterTypeError
from prefect.utilities.callables import parameter_schema
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import ConfigError, load_config
from chartroute.flows.backfill import backfill_flow
from chartroute.flows.escalate import escalate_flow
from chartroute.flows.parameters import check_day_range
from chartroute.flows.report import report_flow
from chartroute.flows.simulate import simulate_flow
from chartroute.flows.sync import sync_flow
from chartroute.pinned_config import pin_config
from tests.conftest import ROOT

FLOWS = [sync_flow, escalate_flow, report_flow, backfill_flow, simulate_flow]
SCALARS = {"string", "integer", "number", "boolean"}
CONFIG = str(ROOT / "config" / "practice.yaml")


def _field_types(prop: dict[str, Any]) -> set[str]:
    options = prop.get("anyOf", [prop])
    return {o.get("type", "object") for o in options} - {"null"}


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_every_parameter_is_one_form_field_with_a_description(flow: Any) -> None:
    schema = parameter_schema(flow).model_dump()
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"{flow.name}.{name} has no description for the form"
        kinds = _field_types(prop)
        if kinds <= SCALARS:
            continue
        # a nested model is allowed only when every field has a default, so `-p name={...}`
        # may set one of them (the simulation's assumptions)
        definition = schema["definitions"][prop["$ref"].rsplit("/", 1)[-1]]
        assert not definition.get("required"), f"{flow.name}.{name} must be sent whole"


def test_a_backfill_is_one_form_field_per_setting() -> None:
    schema = parameter_schema(backfill_flow).model_dump()
    assert set(schema["required"]) == {"source", "start", "end"}
    assert {"config", "partition_days", "dry_run", "load", "as_of"} <= set(schema["properties"])
    checked = backfill_flow.validate_parameters(
        {"source": "/data", "start": "2026-01-01", "end": "2026-01-31", "partition_days": "7"}
    )
    assert checked["start"] == date(2026, 1, 1) and checked["partition_days"] == 7


@pytest.mark.parametrize("flow", [sync_flow, backfill_flow], ids=lambda f: f.name)
def test_an_empty_source_is_refused_naming_the_setting(flow: Any) -> None:
    schema = parameter_schema(flow).model_dump()
    assert schema["properties"]["source"]["minLength"] == 1  # the server refuses it too
    dates = {"start": "2026-01-01", "end": "2026-01-02"} if flow is backfill_flow else {}
    with pytest.raises(ParameterTypeError, match="source is empty") as refused:
        flow.validate_parameters({"source": " ", "config": CONFIG, **dates})
    assert "CHARTROUTE_SOURCE" in str(refused.value) and "-p source=" in str(refused.value)


@pytest.mark.parametrize("flow", FLOWS[:4], ids=lambda f: f.name)
def test_an_empty_config_is_refused_naming_the_setting(flow: Any) -> None:
    schema = parameter_schema(flow).model_dump()
    assert schema["properties"]["config"]["minLength"] == 1
    given = {"source": "/data", "start": "2026-01-01", "end": "2026-01-02", "config": ""}
    wanted = {k: v for k, v in given.items() if k in schema["properties"]}
    with pytest.raises(ParameterTypeError, match="config is empty") as refused:
        flow.validate_parameters(wanted)
    assert "chartroute deployments render --config" in str(refused.value)


def test_the_domain_never_reads_an_empty_path_as_this_folder() -> None:
    for read in (load_config, pin_config):
        with pytest.raises(ConfigError, match="path is empty"):
            read("")


def test_a_range_ending_before_it_starts_is_refused() -> None:
    check_day_range(date(2026, 1, 1), date(2026, 1, 1))
    check_day_range(None, date(2026, 1, 1))
    with pytest.raises(ValueError, match="end 2026-01-01 is before start 2026-02-01"):
        check_day_range(date(2026, 2, 1), date(2026, 1, 1))


@pytest.mark.parametrize(
    ("args", "option", "how"),
    [
        (["config", "check", "--config", ""], "--config", "practice YAML"),
        (["sync", "--source", "", "--config", CONFIG], "--source", "FHIR base URL"),
        (["sync", "--source", str(ROOT), "--config", " "], "--config", "practice YAML"),
        (["classify", ""], "source", "FHIR base URL"),
        (["serve", "--source", ""], "--source", "FHIR base URL"),
        (["backfill", "--start", "2026-01-01", "--end", "2026-01-02", "--source", ""],
         "--source", "FHIR base URL"),
        (["sweep", "--config", ""], "--config", "practice YAML"),
        (["report", "--config", ""], "--config", "practice YAML"),
        (["deliver", "--config", ""], "--config", "practice YAML"),
        (["review", "report", "--config", ""], "--config", "practice YAML"),
        (["config", "diff", CONFIG, "--config", ""], "--config", "practice YAML"),
    ],
)  # fmt: skip
def test_the_cli_refuses_an_empty_path_by_name(args: list[str], option: str, how: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    assert f"'{option}': is empty" in flat and how in flat
