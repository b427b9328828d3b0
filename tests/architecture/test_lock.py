"""requirements.lock pins every dependency pyproject.toml names, inside its range.

pyproject.toml holds compatible ranges (so chartroute installs beside other packages); the
lock holds the exact versions README's commands and test-all.sh install. A dependency added or
re-ranged without re-running scripts/lock.sh fails here.
"""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            pins[canonicalize_name(name)] = rest.split(";")[0].strip()
    return pins


def test_every_dependency_is_locked_inside_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = locked()
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for r in project["optional-dependencies"]["test"]]
    outside = {
        str(r): pin
        for r in wanted
        if (pin := pins.get(canonicalize_name(r.name))) is None or pin not in r.specifier
    }
    assert outside == {}, "run scripts/lock.sh"


def test_dependencies_are_ranges_not_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    assert [r for r in requirements if "==" in r] == []
