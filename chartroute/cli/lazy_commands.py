"""Commands whose module is imported only when that command runs.

Importing every command's module to answer ``chartroute worklist`` cost seconds: the backfill's
module alone pulls in the whole sync pipeline. A group built by ``lazy_group`` lists every
command for ``--help`` but imports a module (and calls its ``register``) on the first lookup
of one of its commands, so a read-only command pays only for what it reads.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperGroup

__all__ = ["LazyCommands", "lazy_group", "registered_apps"]


class LazyCommands(TyperGroup):
    """A typer group that imports a command's module when the command is looked up."""

    #: command name -> module whose ``register(app)`` adds it
    lazy: ClassVar[Mapping[str, str]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in self.lazy:
            return found
        for name, command in _commands_of(self.lazy[cmd_name]).items():
            self.add_command(command, name)
        return super().get_command(ctx, cmd_name)


def lazy_group(commands: Mapping[str, str]) -> type[LazyCommands]:
    """A ``LazyCommands`` class for ``typer.Typer(cls=...)`` with these lazy commands."""
    return type("LazyCommandGroup", (LazyCommands,), {"lazy": dict(commands)})


def _scratch(module_name: str) -> typer.Typer:
    app = typer.Typer()
    importlib.import_module(module_name).register(app)
    return app


@functools.cache
def _commands_of(module_name: str) -> dict[str, Any]:
    group = typer.main.get_group(_scratch(module_name))
    return dict(group.commands)


def registered_apps(commands: Mapping[str, str]) -> Iterator[typer.Typer]:
    """Each lazy module's commands registered on an app of their own (for tests that walk
    every command's function)."""
    for module_name in sorted(set(commands.values())):
        yield _scratch(module_name)
