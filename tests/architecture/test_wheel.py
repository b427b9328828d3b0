"""A built wheel installs one package, chartroute, with its orchestration floors inside it.

The folders tasks/, flows/ and deployments/ sit at the top of the repository (the project's
layout); chartroute/tasks, chartroute/flows and chartroute/deployments are symlinks to them.
A wheel that put generic top-level packages named ``tasks`` or ``flows`` into site-packages
would collide with anything else of that name.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

BUILD_INPUTS = ["pyproject.toml", "README.md", "chartroute", "tasks", "flows", "deployments"]


@pytest.mark.slow
def test_the_wheel_holds_only_the_chartroute_package(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(path, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=source,
        check=True,
    )
    (wheel,) = tmp_path.glob("chartroute-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"chartroute"}
    for floor in ("tasks", "flows", "deployments"):
        assert f"chartroute/{floor}/__init__.py" in names
    assert "chartroute/flows/sync.py" in names and "chartroute/tasks/sync.py" in names
