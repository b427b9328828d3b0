"""A practice file validated once in a process is not parsed again: the second load gives an
equal, separate config; a text with problems fails every time, naming them."""

from __future__ import annotations

import pytest

from chartroute.config import ConfigError, load_config_text, loader
from tests.conftest import ROOT

TEXT = (ROOT / "config" / "practice.yaml").read_text(encoding="utf-8")


def test_a_text_validated_before_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_config_text(TEXT, "practice.yaml")

    def parse(*_args: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(loader, "_validate_text", parse)
    second = load_config_text(TEXT, "practice.yaml")
    assert second == first
    assert second is not first and second.roster is not first.roster  # a copy to change


def test_a_text_with_problems_fails_every_time() -> None:
    broken = TEXT + "\nnot_a_section: 1\n"
    for _ in range(2):
        with pytest.raises(ConfigError) as raised:
            load_config_text(broken, "practice.yaml")
        assert "not_a_section" in str(raised.value)
