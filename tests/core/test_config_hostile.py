"""Hostile practice files: refused quickly with exit 2 and the line, never a hang or traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import ConfigError, load_config_text
from chartroute.config.loader import MAX_ALIASES

ROOT = Path(__file__).resolve().parents[2]
PRACTICE = (ROOT / "config" / "practice.yaml").read_text()

#: 306 bytes that stand for 9^7 strings once every alias is expanded.
BOMB = "\n".join(
    [f"a: &a [{', '.join(['lol'] * 9)}]"]
    + [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdef", "bcdefg", strict=True)]
)


def _problem(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "practice.yaml")
    (problem,) = info.value.problems
    return str(problem)


def test_an_alias_bomb_is_refused_at_its_line_in_well_under_a_second() -> None:
    started = time.perf_counter()
    problem = _problem(BOMB)
    assert time.perf_counter() - started < 1
    assert problem.startswith("practice.yaml:6:") and "aliases expand to more than" in problem


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    problem = _problem("x: " + "[" * 5000 + "]" * 5000)
    assert problem.startswith("practice.yaml:1:") and "nested deeper than 64" in problem


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    assert f"more than {MAX_ALIASES} aliases" in _problem(text)


def test_a_few_anchors_and_aliases_still_load() -> None:
    lines = PRACTICE.splitlines()
    capacities = [i for i, line in enumerate(lines) if line.strip() == "daily_capacity: 30"]
    lines[capacities[0]] = lines[capacities[0]].replace("30", "&ma_capacity 30")
    lines[capacities[1]] = lines[capacities[1]].replace("30", "*ma_capacity")
    config = load_config_text("\n".join(lines) + "\n", "p.yaml")
    assert [p.daily_capacity for p in config.roster][:2] == [30, 30]


def test_config_check_exits_2_naming_the_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    result = CliRunner().invoke(app, ["config", "check", "--config", str(bomb)])
    assert result.exit_code == 2
    assert f"{bomb}:6:" in result.stderr


def _with_smtp(tmp_path: Path, host: str, security: str) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(
        PRACTICE
        + "\nnotify:\n  channels:\n    email:\n      type: smtp\n"
        + f"      host: {host}\n      port: 25\n      security: {security}\n"
        + "      from: chartroute@example.org\n      username: chartroute\n"
        + "      password: {env: SMTP_PASSWORD}\n"
    )
    return path


def test_config_check_refuses_a_password_sent_in_clear_text(tmp_path: Path) -> None:
    path = _with_smtp(tmp_path, "smtp.example.org", "none")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    line = PRACTICE.count("\n") + 8  # the `security:` line
    assert f"{path}:{line}: notify.channels.email.security: `none` would send the password" in (
        result.stderr
    )


@pytest.mark.parametrize(
    "host,security",
    [("localhost", "none"), ("127.0.0.1", "none"), ("::1", "none"), ("smtp.example.org", "tls")],
)
def test_a_password_over_loopback_or_encrypted_is_fine(
    tmp_path: Path, host: str, security: str
) -> None:
    path = _with_smtp(tmp_path, f"'{host}'", security)
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.stderr
