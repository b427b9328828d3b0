"""The suite's wall time on two workers depends on the order files are handed out."""

from __future__ import annotations

import pytest


def test_xdist_hands_out_files_in_the_order_the_conftest_gives(
    pytestconfig: pytest.Config,
) -> None:
    # xdist's default reorders files by their number of tests, undoing the slow-first order
    # of tests/conftest.py: a whole suite run then ended with one worker idle for minutes
    assert pytestconfig.getoption("loadscopereorder") is False
