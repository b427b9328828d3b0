"""The import-linter contracts in pyproject.toml name every top-level module of chartroute.

``lint-imports`` (run by scripts/test-all.sh) checks the contracts; this test keeps them
complete: a new top-level module or package must be put on a floor or in the domain list, or
the domain contract would silently not cover it.
"""

from __future__ import annotations

import pkgutil
import tomllib
from typing import Any

import chartroute
from tests.conftest import ROOT


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_top_level_module_is_a_floor_or_in_the_domain() -> None:
    floors = contracts()["layers"]["layers"]
    domain = contracts()["domain-without-prefect"]["source_modules"]
    assert floors == [
        "chartroute.cli",
        "chartroute.deployments",
        "chartroute.flows",
        "chartroute.tasks",
    ]
    assert len(domain) == len(set(domain)) and not set(domain) & set(floors)
    top_level = {f"chartroute.{m.name}" for m in pkgutil.iter_modules(chartroute.__path__)}
    assert top_level == set(domain) | set(floors)


def test_the_domain_may_import_nothing_above_it() -> None:
    floors = contracts()["layers"]["layers"]
    forbidden = contracts()["domain-without-prefect"]["forbidden_modules"]
    assert set(forbidden) == {"prefect", "prefect_dask", *floors}
