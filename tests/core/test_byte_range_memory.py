"""A folder's byte ranges are counted once per file version: a later run takes them from the
store while a file's fingerprint holds, lists exactly the partitions a fresh count lists, and
counts again a file that changed, a different partition size, or ranges that no longer fit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from chartroute.sources import ndjson_dir
from chartroute.sources.ndjson_dir import NdjsonDirSource
from chartroute.store import runs
from chartroute.sync import partitions_to_read, plan_sync, ranges_setting
from tests import builders as b

AS_OF = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)


def _folder(tmp_path: Path, encounters: int = 40) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    lines = [orjson.dumps(b.encounter(f"e{i}")) + b"\n" for i in range(encounters)]
    (folder / "Encounter.ndjson").write_bytes(b"".join(lines))
    (folder / "Condition.ndjson").write_bytes(b"")
    return folder


def _ids(source: NdjsonDirSource) -> list[tuple[str, str, str, str]]:
    return [(p.id, p.label, p.fingerprint, p.cursor_name) for p in source.partitions()]


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files whose newlines were counted."""
    counted: list[str] = []
    count = ndjson_dir._byte_ranges

    def spy(path: Path, size: int, chunk: int):  # type: ignore[no-untyped-def]
        counted.append(path.name)
        return count(path, size, chunk)

    monkeypatch.setattr(ndjson_dir, "_byte_ranges", spy)
    return counted


def test_remembered_ranges_list_the_same_partitions_without_counting(
    tmp_path: Path, counting: list[str]
) -> None:
    folder = _folder(tmp_path)
    first = NdjsonDirSource(folder, partition_bytes=300)
    fresh = _ids(first)
    assert len(fresh) > 3 and counting == ["Condition.ndjson", "Encounter.ndjson"]
    counting.clear()
    again = NdjsonDirSource(folder, partition_bytes=300)
    again.remember_ranges(first.ranges_to_remember())
    assert _ids(again) == fresh
    assert counting == ["Condition.ndjson"]  # an empty file has no range to remember


def test_a_changed_file_or_partition_size_is_counted_again(
    tmp_path: Path, counting: list[str]
) -> None:
    folder = _folder(tmp_path)
    first = NdjsonDirSource(folder, partition_bytes=300)
    first.partitions()
    remembered = first.ranges_to_remember()
    with (folder / "Encounter.ndjson").open("ab") as fh:
        fh.write(orjson.dumps(b.encounter("late")) + b"\n")
    for size in (300, 500):
        counting.clear()
        source = NdjsonDirSource(folder, partition_bytes=size)
        source.remember_ranges(remembered)
        assert _ids(source) == _ids(NdjsonDirSource(folder, partition_bytes=size))
        assert "Encounter.ndjson" in counting


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"Encounter.ndjson": 3}', '{"Encounter.ndjson": ["k", [[0, "x"]]]}'],
)
def test_unreadable_remembered_ranges_are_ignored(tmp_path: Path, text: str) -> None:
    folder = _folder(tmp_path)
    source = NdjsonDirSource(folder, partition_bytes=300)
    source.remember_ranges(text)
    assert _ids(source) == _ids(NdjsonDirSource(folder, partition_bytes=300))


def test_ranges_that_no_longer_end_at_a_newline_are_counted_again(
    tmp_path: Path, counting: list[str]
) -> None:
    folder = _folder(tmp_path)
    first = NdjsonDirSource(folder, partition_bytes=300)
    fresh = _ids(first)
    known = orjson.loads(first.ranges_to_remember())
    _key, ranges = known["Encounter.ndjson"]
    ranges[0][1] -= 1  # the same fingerprint, but the first range ends mid-line
    ranges[1][0] -= 1
    counting.clear()
    source = NdjsonDirSource(folder, partition_bytes=300)
    source.remember_ranges(orjson.dumps(known).decode())
    assert _ids(source) == fresh
    assert "Encounter.ndjson" in counting


def test_a_sync_plan_keeps_the_ranges_for_the_next_run(
    engine: Engine, tmp_path: Path, counting: list[str]
) -> None:
    folder = _folder(tmp_path)
    source = NdjsonDirSource(folder, partition_bytes=300)
    plan = plan_sync(engine, source, AS_OF)
    with engine.connect() as conn:
        stored = runs.get_setting(conn, ranges_setting(source.name))
    assert stored == source.ranges_to_remember()
    counting.clear()
    later = NdjsonDirSource(folder, partition_bytes=300)
    parts, _todo, fingerprints = partitions_to_read(engine, later)
    assert [p.id for p in parts] == [p.id for p in plan.partitions]
    assert fingerprints == plan.fingerprints
    assert counting == ["Condition.ndjson"]
