"""The notify tests' practice with only a file channel, for the store's crash tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartroute.config import PracticeConfig, load_config
from tests.notify.conftest import all_channels, notify_section, write_config


@pytest.fixture
def file_config(tmp_path: Path) -> PracticeConfig:
    return load_config(write_config(tmp_path, notify_section(all_channels(tmp_path))))
