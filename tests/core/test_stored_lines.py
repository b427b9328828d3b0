"""A re-exported line whose fact is stored is recognised by its hash and not read again — and
the store ends exactly as if every line had been read (chartroute/stored_lines.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, select, update

from chartroute import ingest, stored_lines
from chartroute.config.validation import Validation
from chartroute.sources import NdjsonDirSource
from chartroute.sources.base import SourceRecord
from chartroute.store.engine import make_engine
from chartroute.store.schema import dirty_key, fact, quarantine
from chartroute.validation.feed import FeedValidator
from tests import builders as b

PRACTICE = [
    b.encounter("e1"),
    b.note("n1", doc_status="preliminary"),
    b.order("sr1"),
    b.encounter("e2", reason=False),
    b.note("n2", "Encounter/e2"),
    b.task("t1", "Encounter/e2"),
]


def read_folder(
    engine: Engine, folder: Path, as_of: datetime, *, suites: bool = True, sift: bool = True
) -> ingest.IngestCounts:
    """Every partition of ``folder``, as a sync run as of ``as_of`` reads them."""
    source = NdjsonDirSource(folder)
    validator = FeedValidator(Validation(), as_of, read_at=as_of) if suites else None
    if not sift:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ingest, "line_sifter", lambda *_a: None)
            return ingest.ingest_partitions(
                engine, source, source.partitions(), validator=validator
            )
    return ingest.ingest_partitions(engine, source, source.partitions(), validator=validator)


def stored(engine: Engine) -> tuple[Any, ...]:
    """What the store holds that reading decides: facts, the queue, quarantine."""
    with engine.connect() as conn:
        facts = conn.execute(select(fact.c.key, fact.c.content_hash).order_by(fact.c.key)).all()
        queued = conn.execute(select(dirty_key.c.key).order_by(dirty_key.c.key)).scalars().all()
        held = conn.execute(select(quarantine.c.key).order_by(quarantine.c.key)).scalars().all()
    return tuple(facts), tuple(queued), tuple(held)


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real = stored_lines.decode_record

    def counting(record: SourceRecord) -> Any:
        decoded.append(record.location)
        return real(record)

    monkeypatch.setattr(stored_lines, "decode_record", counting)
    return decoded


def test_a_re_exported_folder_costs_its_changed_lines(
    engine: Engine, tmp_path: Path, as_of: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "src"
    b.write_ndjson(folder, PRACTICE)
    first = read_folder(engine, folder, as_of)
    assert (first.unchanged_lines, first.facts_inserted) == (0, len(PRACTICE))
    before = stored(engine)
    decoded = count_decodes(monkeypatch)

    b.write_ndjson(folder, PRACTICE)  # the same export again
    again = read_folder(engine, folder, as_of)
    assert decoded == []
    assert (again.read, again.stored, again.unchanged_lines) == (6, 6, 6)
    assert stored(engine) == before

    with engine.begin() as conn:  # as classify would, so the queue shows what the change adds
        conn.execute(delete(dirty_key))
    signed = [b.note("n1", doc_status="final") if r["id"] == "n1" else r for r in PRACTICE]
    b.write_ndjson(folder, signed)
    changed = read_folder(engine, folder, as_of)
    assert decoded == ["DocumentReference.ndjson:1"]
    assert (changed.unchanged_lines, changed.facts_updated) == (5, 1)
    with engine.connect() as conn:
        assert conn.execute(select(dirty_key.c.key)).scalars().all() == ["Encounter/e1"]


def test_facts_stored_before_line_hashes_get_them_on_their_next_read(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    """A store from before the migration has no line hashes: the first re-read fills them
    in (one statement, on both databases), the second recognises every line."""
    folder = tmp_path / "src"
    b.write_ndjson(folder, PRACTICE)
    read_folder(engine, folder, as_of, suites=False)
    with engine.begin() as conn:
        conn.execute(update(fact).values(line_hash=None))
    filled = read_folder(engine, folder, as_of, suites=False)
    assert (filled.unchanged_lines, filled.facts_unchanged) == (0, len(PRACTICE))
    with engine.connect() as conn:
        hashes = conn.execute(select(func.count()).where(fact.c.line_hash.is_not(None))).scalar()
    assert hashes == len(PRACTICE)
    assert read_folder(engine, folder, as_of, suites=False).unchanged_lines == len(PRACTICE)


def versioned(resource: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**resource, "meta": {"versionId": "3"}, **changes}


def test_copies_sent_together_still_meet_in_the_duplicate_check(
    tmp_path: Path, as_of: datetime
) -> None:
    """One copy is the stored line, the other has the same version and other content: both
    are read, and held, exactly as when every line was read."""
    outcomes = []
    for sift in (True, False):
        engine = make_engine(f"sqlite:///{tmp_path / f'{sift}.db'}")
        folder = tmp_path / f"src-{sift}"
        note = versioned(b.note("n1", doc_status="preliminary"))
        b.write_ndjson(folder, [b.encounter("e1"), note])
        read_folder(engine, folder, as_of, sift=sift)
        b.write_ndjson(folder, [b.encounter("e1"), note, {**note, "docStatus": "final"}])
        counts = read_folder(engine, folder, as_of, sift=sift)
        outcomes.append((stored(engine), counts.quarantined))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] == 2 and outcomes[0][0][2] == ("DocumentReference/n1",)


def test_a_good_line_sent_again_releases_its_bad_copy(tmp_path: Path, as_of: datetime) -> None:
    outcomes = []
    for sift in (True, False):
        engine = make_engine(f"sqlite:///{tmp_path / f'{sift}.db'}")
        folder = tmp_path / f"src-{sift}"
        b.write_ndjson(folder, PRACTICE)
        read_folder(engine, folder, as_of, sift=sift)
        bad = [{**r, "status": "not-a-status"} if r["id"] == "n2" else r for r in PRACTICE]
        b.write_ndjson(folder, bad)
        held = read_folder(engine, folder, as_of, sift=sift)
        assert held.quarantined == 1
        b.write_ndjson(folder, PRACTICE)
        fixed = read_folder(engine, folder, as_of, sift=sift)
        assert fixed.unchanged_lines == (6 if sift else 0)
        outcomes.append(stored(engine))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == ()


def test_a_run_as_of_a_past_time_reads_every_line(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    folder = tmp_path / "src"
    b.write_ndjson(folder, PRACTICE)
    read_folder(engine, folder, as_of)
    source = NdjsonDirSource(folder)
    past = FeedValidator(Validation(), as_of - timedelta(days=30), read_at=as_of)
    counts = ingest.ingest_partitions(engine, source, source.partitions(), validator=past)
    assert counts.unchanged_lines == 0 and counts.facts_unchanged == len(PRACTICE)


def test_a_line_is_hashed_in_its_context_and_without_its_line_end(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    line = json.dumps(b.note("n1")).encode()
    sifter = stored_lines.LineSifter(engine, b"rules v1")
    here = SourceRecord("DocumentReference.ndjson:1", raw=line + b"\n")
    digest = sifter.line_hash(here)
    assert digest == sifter.line_hash(SourceRecord("x:9", raw=line + b"\r\n"))
    other_file = SourceRecord("Observation.ndjson:1", raw=line, expected_type="Observation")
    assert sifter.line_hash(other_file) != digest
    assert stored_lines.LineSifter(engine, b"rules v2").line_hash(here) != digest
    assert sifter.line_hash(SourceRecord("x:1", deleted="DocumentReference/n1")) is None


def nested_id_first(resource: dict[str, Any]) -> dict[str, Any]:
    """The same resource with an element's ``id`` written before its own: the line's key is
    then guessed wrong."""
    rest = {k: v for k, v in resource.items() if k not in {"resourceType", "id"}}
    return {
        "resourceType": resource["resourceType"],
        "text": {"id": "narrative-1", "status": "generated", "div": "<div>x</div>"},
        "id": resource["id"],
        **rest,
    }


def test_a_line_whose_key_is_guessed_wrong_is_read_as_before(
    engine: Engine, tmp_path: Path, as_of: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = json.dumps(nested_id_first(b.note("n1"))).encode()
    record = SourceRecord("x:1", raw=line, expected_type="DocumentReference")
    assert stored_lines.key_guess(record) == "DocumentReference/narrative-1"
    folder = tmp_path / "src"
    b.write_ndjson(folder, [b.encounter("e1"), nested_id_first(b.note("n1"))])
    read_folder(engine, folder, as_of, suites=False)
    decoded = count_decodes(monkeypatch)
    b.write_ndjson(folder, [b.encounter("e1"), nested_id_first(b.note("n1"))])
    again = read_folder(engine, folder, as_of, suites=False)
    assert decoded == ["DocumentReference.ndjson:1"]  # decoded, found unchanged
    assert (again.unchanged_lines, again.facts_unchanged) == (1, 1)


VARIANTS: dict[str, list[dict[str, Any]]] = {
    "e1": [b.encounter("e1"), b.encounter("e1", status="in-progress")],
    "n1": [
        b.note("n1", doc_status="preliminary"),
        b.note("n1", doc_status="final"),
        nested_id_first(b.note("n1", doc_status="final")),
    ],
    "sr1": [b.order("sr1"), b.order("sr1", "Encounter/e2")],
    "e2": [b.encounter("e2", reason=False), b.encounter("e2")],
    "n2": [b.note("n2", "Encounter/e2"), {**b.note("n2", "Encounter/e2"), "status": "bad"}],
}
#: an export: for each resource, which of its variants it holds (none, one, or two copies)
exports = st.lists(
    st.fixed_dictionaries(
        {rid: st.lists(st.integers(0, len(v) - 1), max_size=2) for rid, v in VARIANTS.items()}
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exports)
def test_any_sequence_of_exports_stores_what_reading_every_line_stores(
    tmp_path_factory: pytest.TempPathFactory, runs: list[dict[str, list[int]]]
) -> None:
    as_of = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
    root = tmp_path_factory.mktemp("exports")
    ends = []
    for sift in (True, False):
        engine = make_engine(f"sqlite:///{root / f'{sift}.db'}")
        for number, export in enumerate(runs):
            resources = [VARIANTS[rid][i] for rid, picks in export.items() for i in picks]
            folder = root / f"{sift}-{number}"
            b.write_ndjson(folder, resources)
            if resources:
                read_folder(engine, folder, as_of, suites=False, sift=sift)
        ends.append(stored(engine))
        engine.dispose()
    assert ends[0] == ends[1]


def test_a_line_hash_is_stored_only_with_the_fact_read_from_that_line(
    engine: Engine, as_of: datetime
) -> None:
    """Two copies of a resource in one batch: the newer is stored, and the hash of the older
    copy's line must not be stored with it."""
    from chartroute.fhir.extract import extract_facts
    from chartroute.store.facts import upsert_facts

    newer = extract_facts({**b.note("n1"), "meta": {"lastUpdated": "2026-03-03T00:00:00Z"}})
    older = extract_facts({**b.note("n1"), "meta": {"lastUpdated": "2026-03-01T00:00:00Z"}})
    with engine.begin() as conn:
        upsert_facts(conn, [newer[0], older[0]], as_of, {"DocumentReference/n1": (older[0], "ab")})
        assert conn.execute(select(fact.c.line_hash)).scalar() is None
        upsert_facts(conn, [newer[0]], as_of, {"DocumentReference/n1": (newer[0], "cd")})
        assert conn.execute(select(fact.c.line_hash)).scalar() == "cd"


def test_a_first_load_looks_no_line_up(
    engine: Engine, tmp_path: Path, as_of: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is stored yet, so nothing can be recognised: no lookup per chunk (the lines
    are still hashed, to be stored with their facts)."""
    asked: list[int] = []
    real = stored_lines.fact_store.lines_of
    monkeypatch.setattr(
        stored_lines.fact_store, "lines_of", lambda c, k: asked.append(1) or real(c, k)
    )
    folder = tmp_path / "src"
    b.write_ndjson(folder, PRACTICE)
    read_folder(engine, folder, as_of, suites=False)
    assert asked == []
    b.write_ndjson(folder, PRACTICE)
    assert read_folder(engine, folder, as_of, suites=False).unchanged_lines == len(PRACTICE)
    assert asked != []
