"""The practice file: each problem reported with file, line and field; nothing runs on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import ConfigError, load_config_text
from chartroute.config.loader import config_json_schema

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config" / "practice.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "practice.yaml")
    return [str(p) for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_shipped_config_is_valid() -> None:
    assert len(load_config_text(GOOD).roster) >= 5


def test_wrong_value_names_file_line_and_field() -> None:
    bad = GOOD.replace("daily_capacity: 60", "daily_capacity: -3", 1)
    (msg,) = problems(bad)
    assert msg.startswith(
        f"practice.yaml:{line_of(bad, 'daily_capacity: -3')}: roster.2.daily_capacity:"
    )


def test_unknown_field_is_an_error() -> None:
    bad = GOOD.replace("    slack: U000AVERY", "    slak: U000AVERY")
    (msg,) = problems(bad)
    assert f":{line_of(bad, 'slak:')}: roster.0.slak:" in msg


def test_unknown_role_in_routing() -> None:
    bad = GOOD.replace("pending-result: medical-assistant", "pending-result: nurse")
    (msg,) = problems(bad)
    assert (
        "routing.categories.pending-result" in msg
        and f":{line_of(bad, 'pending-result: nurse')}:" in msg
    )


def test_cross_reference_errors_point_at_the_field() -> None:
    bad = GOOD.replace("backup: dr-blake", "backup: dr-nobody")
    (msg,) = problems(bad)
    assert (
        f":{line_of(bad, 'backup: dr-nobody')}: roster.0.backup: unknown person 'dr-nobody'" in msg
    )


def test_duplicate_keys_are_reported() -> None:
    bad = GOOD.replace(
        "  name: Example Family Medicine", "  name: Example Family Medicine\n  name: Again"
    )
    (msg,) = problems(bad)
    assert "practice.name: key appears more than once" in msg


def test_not_yaml() -> None:
    (msg,) = problems("roster: [\n")
    assert "not valid YAML" in msg


def test_role_with_nobody_in_it() -> None:
    bad = GOOD.replace("roles: [front-desk]", "roles: [coder]")
    (msg,) = problems(bad)
    assert "no one on the roster has role 'front-desk'" in msg


def test_config_check_command_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert runner.invoke(app, ["config", "check", "--config", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("timezone: America/New_York", "timezone: Mars/Olympus"))
    result = runner.invoke(app, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:{line_of(bad.read_text(), 'Mars')}: practice.timezone" in result.output
    missing = runner.invoke(app, ["config", "check", "--config", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_json_schema_describes_every_section() -> None:
    schema = config_json_schema()
    for section in ("practice", "roster", "routing", "documentation", "billing", "charts"):
        assert f'"{section}"' in schema


def test_every_problem_is_reported_in_one_pass() -> None:
    """An unknown backup was reported only after every field error was fixed."""
    bad = GOOD.replace("backup: dr-blake", "backup: dr-blak").replace(
        "daily_capacity: 60", "daily_capacity: -3", 1
    )
    found = problems(bad)
    assert len(found) == 2, found
    assert any("roster.2.daily_capacity" in p for p in found)
    assert any(
        f":{line_of(bad, 'backup: dr-blak')}: roster.0.backup: unknown person 'dr-blak'; "
        "did you mean 'dr-blake'?" in p
        for p in found
    ), found


def test_two_cross_reference_problems_are_both_reported() -> None:
    bad = GOOD.replace("backup: dr-blake", "backup: dr-nobody").replace(
        "roles: [front-desk]", "roles: [coder]"
    )
    found = problems(bad)
    assert any("roster.0.backup: unknown person 'dr-nobody'" in p for p in found), found
    assert any("no one on the roster has role 'front-desk'" in p for p in found), found


def test_a_misspelt_key_or_role_gets_the_closest_valid_name() -> None:
    bad = GOOD.replace("    slack: U000AVERY", "    slak: U000AVERY").replace(
        "pending-result: medical-assistant", "pending-result: medical-asistant"
    )
    found = problems(bad)
    assert any("roster.0.slak: unknown key; did you mean 'slack'?" in p for p in found), found
    assert any(
        "routing.categories.pending-result" in p and "did you mean 'medical-assistant'?" in p
        for p in found
    ), found
    (top,) = problems(GOOD.replace("routing:", "routin:", 1))
    assert "routin: unknown key; did you mean 'routing'?" in top


def test_config_check_prints_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        GOOD.replace("backup: dr-blake", "backup: dr-blak").replace(
            "timezone: America/New_York", "timezone: Mars/Olympus"
        )
    )
    result = CliRunner().invoke(app, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2
    assert "practice.timezone" in result.stderr and "did you mean 'dr-blake'?" in result.stderr
