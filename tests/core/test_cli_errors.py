"""Exit codes come from one place: bad input is 2 with a message naming the option, never a
traceback, and no command picks an exit code by hand."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import chartroute.cli
from chartroute.cli.lazy_commands import registered_apps
from chartroute.cli.main import LAZY_COMMANDS, LAZY_CONFIG_COMMANDS, app

CLI = Path(chartroute.cli.__file__).parent


def test_a_bad_start_day_for_generate_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", str(tmp_path / "out"), "--start", "05/01/2026"])
    assert result.exit_code == 2, result.output
    assert "--start: '05/01/2026' is not an ISO date" in result.stderr
    assert not (tmp_path / "out").exists()


def test_only_the_errors_module_chooses_exit_codes() -> None:
    """``typer.Exit`` is raised in ``cli/errors.py`` alone; commands go through ``exit_codes``."""
    raising: list[str] = []
    for path in sorted(CLI.glob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if ast.unparse(target) in ("typer.Exit", "Exit", "SystemExit", "typer.Abort"):
                    raising.append(f"{path.name}:{node.lineno}")
    assert raising == []


def commands(group: typer.Typer) -> Iterator[Callable[..., Any]]:
    if group.registered_callback is not None and group.registered_callback.callback:
        yield group.registered_callback.callback
    for command in group.registered_commands:
        assert command.callback is not None
        yield command.callback
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        yield from commands(sub.typer_instance)


def every_command() -> Iterator[Callable[..., Any]]:
    """The main app's commands and those its lazy groups import when run."""
    yield from commands(app)
    for lazy in (LAZY_COMMANDS, LAZY_CONFIG_COMMANDS):
        for scratch in registered_apps(lazy):
            yield from commands(scratch)


def test_every_command_runs_inside_exit_codes() -> None:
    found = {
        f"{fn.__module__}.{fn.__name__}": "exit_codes(" in inspect.getsource(fn)
        for fn in every_command()
    }
    assert len(found) >= 15
    assert [name for name, inside in found.items() if not inside] == []


def test_an_error_whose_module_a_command_imports_later_keeps_its_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``Undelivered`` is looked up when an error arrives, not imported by every command."""
    from chartroute.cli.errors import exit_codes
    from chartroute.notify.deliver import Undelivered

    with pytest.raises(typer.Exit) as failed, exit_codes():
        raise Undelivered("2 messages dead-lettered; `chartroute outbox --status dead` lists them")
    assert failed.value.exit_code == 1
    assert capsys.readouterr().err == (
        "error: 2 messages dead-lettered; `chartroute outbox --status dead` lists them\n"
    )
