"""``classify`` reads a source a window at a time: the window changes memory, never the result.

And the temporary store it reads into holds patient data: it lives in a folder only this user
can read, and is gone when ``preview`` returns, on error too.
"""

from __future__ import annotations

import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chartroute.config import load_config
from chartroute.fhir.facts import Fact
from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice
from chartroute.preview import Preview, jsonl_records, preview
from chartroute.sources import NdjsonDirSource

#: A morning in the middle of the horizon: charts still open, records changed after it.
AS_OF = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
SMALL = {"providers": 2, "days": 3, "seed": 3, "patients_per_provider": 15}


@pytest.fixture(scope="module", params=["synthetic", "real-world"])
def practice(request: pytest.FixtureRequest, tmp_path_factory: Any) -> GenerationSummary:
    flavour = request.param
    return generate_practice(
        tmp_path_factory.mktemp(flavour), GeneratorProfile(**SMALL, flavour=flavour)
    )


def everything(result: Preview) -> dict[str, Any]:
    """All a preview prints or decides on, comparable across runs."""
    return {
        "records": list(jsonl_records(result)),
        "notes": result.notes(),
        "checks": result.checks,
        "rejected": [(r.location, r.reasons) for r in result.rejected],
        "read": result.records_read,
        "charts": result.charts_seen,
        "stopped": result.stopped,
    }


def half_from_store(keys: list[str], _as_of: datetime) -> dict[str, list[Fact]]:
    """A store that held every other changed record, with nothing in it then."""
    return {key: [] for key in sorted(keys)[::2]}


@pytest.mark.parametrize("stored_at", [None, half_from_store])
def test_small_windows_give_what_one_window_gives(
    practice: GenerationSummary, stored_at: Any
) -> None:
    config = load_config(practice.out_dir / "practice.yaml")
    source = NdjsonDirSource(practice.out_dir)
    whole = everything(preview(source, config, AS_OF, stored_at=stored_at, window=10**9))
    # a few hundred records: windows that split partitions and resources' neighbours
    tiny = everything(preview(source, config, AS_OF, stored_at=stored_at, window=97))
    assert whole["records"] and whole["notes"]["changed_after_as_of"]
    if stored_at is not None:
        assert whole["notes"]["read_from_store"]
    assert tiny == whole


def test_the_temporary_store_is_private_and_removed_even_on_error(
    practice: GenerationSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[tuple[str, int, list[str]]] = []

    def failing_store(_keys: list[str], _as_of: datetime) -> dict[str, list[Fact]]:
        for folder in tmp_path.iterdir():
            files = sorted(p.name for p in folder.iterdir())
            seen.append((folder.name, stat.S_IMODE(folder.stat().st_mode), files))
        raise RuntimeError("the practice store went away")

    config = load_config(practice.out_dir / "practice.yaml")
    with pytest.raises(RuntimeError):
        preview(NdjsonDirSource(practice.out_dir), config, AS_OF, stored_at=failing_store)
    assert len(seen) == 1 and seen[0][1] == 0o700 and "preview.db" in seen[0][2]
    assert list(tmp_path.iterdir()) == []
