"""One source of schedules: prefect.yaml is rendered from the practice file, as serve builds.

The checked-in ``deployments/prefect.yaml`` is what ``chartroute deployments render`` writes
for the example practice; a practice in another timezone with other hours gets schedules in
its own; ``chartroute serve`` registers the same schedules, tags and parameters; and the
file's build step stops ``prefect deploy`` while ``CHARTROUTE_SOURCE`` is empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import load_config
from chartroute.deployments.deploy_checks import EmptySetting, require_settings
from chartroute.deployments.prefect_yaml import REQUIRE_SETTINGS, render_prefect_yaml
from chartroute.deployments.serve import deployments_for
from tests.conftest import ROOT

CHICAGO = """\
practice:
  name: Prairie Clinic
  timezone: America/Chicago
  calendar:
    hours: {mon: "07:30-18:00", tue: "07:30-18:00", wed: "07:30-18:00", thu: "07:30-18:00",
            fri: "07:30-18:00", sat: "09:00-12:00"}
roster:
  - {id: dr-a, name: A, roles: [clinician], practitioner: Practitioner/prac-001}
  - {id: ma-a, name: B, roles: [medical-assistant]}
  - {id: rc-a, name: C, roles: [referral-coordinator]}
  - {id: fd-a, name: D, roles: [front-desk]}
  - {id: mgr-a, name: E, roles: [manager]}
"""


@pytest.fixture
def chicago(tmp_path: Path) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(CHICAGO)
    return path


def by_name(text: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in yaml.safe_load(text)["deployments"]}


def test_the_checked_in_prefect_yaml_is_the_rendered_one() -> None:
    rendered = render_prefect_yaml(
        load_config(ROOT / "config" / "practice.yaml"), "config/practice.yaml"
    )
    checked_in = (ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8")
    assert rendered == checked_in, (
        "deployments/prefect.yaml is stale: run `chartroute deployments render` from the "
        "repository root and commit the result"
    )


def test_schedules_tags_and_parameters_come_from_the_practice_file(chicago: Path) -> None:
    text = render_prefect_yaml(load_config(chicago), str(chicago))
    assert "[]" not in text  # `schedules: []` on a redeploy is deprecated: null is asked for
    spec = yaml.safe_load(text)
    assert spec["build"] == [{REQUIRE_SETTINGS: {"names": ["CHARTROUTE_SOURCE"]}}]
    found = by_name(text)
    assert list(found) == ["sync", "escalation-sweep", "daily-report", "simulation", "backfill"]
    assert found["sync"]["schedules"] == [
        {"cron": "*/15 7-17 * * 1,2,3,4,5", "timezone": "America/Chicago", "active": True},
        {"cron": "*/15 9-11 * * 6", "timezone": "America/Chicago", "active": True},
    ]
    assert [s["timezone"] for s in found["escalation-sweep"]["schedules"]] == ["America/Chicago"]
    assert found["simulation"]["schedules"] is None and found["backfill"]["schedules"] is None
    assert found["sync"]["parameters"] == {
        "source": "{{ $CHARTROUTE_SOURCE }}",
        "config": str(chicago),
    }
    assert found["simulation"]["parameters"] == {}
    for deployment in found.values():
        assert deployment["tags"] == ["chartroute", "practice:Prairie Clinic"]
        assert deployment["paused"] is False  # a deploy resumes what a stopped serve paused
        assert deployment["work_pool"]["name"] == "chartroute"
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        path, _, function = deployment["entrypoint"].partition(":")
        assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8")


def test_serve_registers_what_render_writes(chicago: Path) -> None:
    rendered = by_name(render_prefect_yaml(load_config(chicago), str(chicago)))
    served = deployments_for(str(chicago), "/data/ehr")
    assert [d.name for d in served] == list(rendered)
    for deployment in served:
        written = rendered[deployment.name]
        schedules = [
            {"cron": s.schedule.cron, "timezone": s.schedule.timezone, "active": True}
            for s in deployment.schedules
        ]
        assert schedules == (written["schedules"] or [])
        assert deployment.tags == written["tags"]
        expected = {
            k: ("/data/ehr" if v == "{{ $CHARTROUTE_SOURCE }}" else v)
            for k, v in written["parameters"].items()
        }
        assert deployment.parameters == expected


def test_the_render_command_writes_the_file_and_says_how_to_deploy_it(
    chicago: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deploy" / "prefect.yaml"
    result = CliRunner().invoke(
        app, ["deployments", "render", "--config", str(chicago), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text() == render_prefect_yaml(load_config(chicago), str(chicago))
    assert "America/Chicago" in result.output and "CHARTROUTE_SOURCE" in result.output
    printed = CliRunner().invoke(
        app, ["deployments", "render", "--config", str(chicago), "--out", "-"]
    )
    assert printed.exit_code == 0 and printed.stdout == out.read_text()
    bad = CliRunner().invoke(
        app, ["deployments", "render", "--config", str(tmp_path / "none.yaml")]
    )
    assert bad.exit_code == 2 and "cannot read" in bad.output


def test_the_build_step_stops_a_deploy_while_the_source_is_empty(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for value in (None, "", "  "):
        if value is None:
            monkeypatch.delenv("CHARTROUTE_SOURCE", raising=False)
        else:
            monkeypatch.setenv("CHARTROUTE_SOURCE", value)
        with pytest.raises(EmptySetting, match="CHARTROUTE_SOURCE is empty") as refused:
            require_settings(["CHARTROUTE_SOURCE"])
        assert "export CHARTROUTE_SOURCE=" in str(refused.value)
        assert "CHARTROUTE_SOURCE is empty" in capsys.readouterr().err
    monkeypatch.setenv("CHARTROUTE_SOURCE", "/data/ehr")
    assert require_settings(["CHARTROUTE_SOURCE"]) == {}
