"""Rooms of a sensible size: no module of chartroute (floors included) over 450 lines.

A module that outgrows this holds more than one idea; split it where the ideas part.
"""

from __future__ import annotations

import os
from pathlib import Path

import chartroute

LIMIT = 450
PACKAGE = Path(chartroute.__file__).parent


def test_no_module_is_over_the_limit() -> None:
    too_long = {}
    for folder, _, files in os.walk(PACKAGE, followlinks=True):  # tasks/, flows/: symlinks
        for name in files:
            if name.endswith(".py"):
                path = Path(folder) / name
                lines = len(path.read_text(encoding="utf-8").splitlines())
                if lines > LIMIT:
                    too_long[str(path.relative_to(PACKAGE))] = lines
    assert too_long == {}
