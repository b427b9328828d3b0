"""A run reads its practice file once and refuses to go on when the file changes under it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartroute import pinned_config as pinning
from chartroute.config import ConfigError, load_config
from chartroute.pinned_config import PinnedConfig, pin_config, pinned_config
from chartroute.transient import is_transient
from tests.conftest import ROOT


@pytest.fixture
def practice_file(tmp_path: Path) -> Path:
    path = tmp_path / "practice.yaml"
    shutil.copy(ROOT / "config" / "practice.yaml", path)
    return path


def test_a_pin_names_the_bytes_read_and_tasks_get_the_config_parsed_once(
    practice_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin, config = pin_config(practice_file)
    assert pin == PinnedConfig(str(practice_file), pin.sha256) and len(pin.sha256) == 64
    assert config == load_config(practice_file)
    parses: list[str] = []
    monkeypatch.setattr(pinning, "load_config_text", lambda *a: parses.append("x"))
    assert pinned_config(pin) is config and pinned_config(pin) is config
    assert parses == []  # the run's tasks in this process share the one parse


def test_another_process_parses_the_same_bytes_it_pinned(practice_file: Path) -> None:
    pin, config = pin_config(practice_file)
    pinning._parsed.clear()  # a worker process or Dask host starts with an empty cache
    assert pinned_config(pin) == config


def test_a_file_edited_during_the_run_is_refused_with_its_name(practice_file: Path) -> None:
    pin, _ = pin_config(practice_file)
    original = practice_file.read_bytes()
    practice_file.write_bytes(original + b"\n# edited while the sync ran\n")
    with pytest.raises(ConfigError, match="changed during the run") as refused:
        pinned_config(pin)
    assert refused.value.problems[0].file == str(practice_file)
    assert str(practice_file) in str(refused.value)
    assert not is_transient(refused.value)  # a retry would only meet it again

    practice_file.write_bytes(original)
    assert pinned_config(pin) == load_config(practice_file)  # the run's own bytes again


def test_a_file_removed_during_the_run_is_refused(practice_file: Path) -> None:
    pin, _ = pin_config(practice_file)
    practice_file.unlink()
    with pytest.raises(ConfigError, match="cannot read"):
        pinned_config(pin)


def test_a_bad_file_is_refused_when_pinned(tmp_path: Path) -> None:
    path = tmp_path / "practice.yaml"
    path.write_bytes(b"roster: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        pin_config(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        pin_config(path)
