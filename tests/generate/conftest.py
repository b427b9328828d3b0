"""Shared generated practices: generating once per session keeps the suite fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice


@pytest.fixture(scope="session")
def default_profile() -> GeneratorProfile:
    """The default practice: 5 providers, 20 clinic days, as of the last evening."""
    return GeneratorProfile()


@pytest.fixture(scope="session")
def default_practice(
    tmp_path_factory: pytest.TempPathFactory, default_profile: GeneratorProfile
) -> GenerationSummary:
    """The default practice, written once."""
    return generate_practice(tmp_path_factory.mktemp("default"), default_profile)


@pytest.fixture(scope="session")
def default_dir(default_practice: GenerationSummary) -> Path:
    """Folder of the default practice."""
    return default_practice.out_dir
