"""Same profile, same bytes; and one encounter's story never depends on the others."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from chartroute.generate import GeneratorProfile, generate_practice


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    profile = GeneratorProfile(providers=2, days=4, seed=7)
    generate_practice(tmp_path / "a", profile)
    generate_practice(tmp_path / "b", profile)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert {"Encounter.ndjson", "practice.yaml", "generator.json"} <= first.keys()
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_practice(tmp_path: Path) -> None:
    generate_practice(tmp_path / "a", GeneratorProfile(providers=2, days=4, seed=7))
    generate_practice(tmp_path / "b", GeneratorProfile(providers=2, days=4, seed=8))
    for name in ("Encounter.ndjson", "Patient.ndjson", "practice.yaml"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_horizon_length_does_not_change_earlier_encounters(tmp_path: Path) -> None:
    """A 3-day and a 6-day practice seen at the same instant are the same EHR."""
    as_of = datetime(2026, 1, 7, 18, 0)
    generate_practice(tmp_path / "short", GeneratorProfile(providers=2, days=3, as_of=as_of))
    generate_practice(tmp_path / "long", GeneratorProfile(providers=2, days=6, as_of=as_of))
    short, long = _files(tmp_path / "short"), _files(tmp_path / "long")
    ndjson = sorted(name for name in short if name.endswith(".ndjson"))
    assert ndjson == sorted(name for name in long if name.endswith(".ndjson"))
    for name in ndjson:
        assert short[name] == long[name], name


def test_rerun_into_same_folder_replaces_stale_files(tmp_path: Path) -> None:
    generate_practice(tmp_path, GeneratorProfile(providers=1, days=2))
    generate_practice(
        tmp_path, GeneratorProfile(providers=1, days=1, as_of=datetime(2026, 1, 5, 8))
    )
    assert not (tmp_path / "DiagnosticReport.ndjson").exists()
    assert (tmp_path / "Patient.ndjson").exists()
