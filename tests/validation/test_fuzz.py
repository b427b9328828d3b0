"""Fuzzing resource JSON through decode, validation and the store: never a crash; every bad
record quarantined with its reason, every good one stored, stored + quarantined = read."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from chartroute.config.validation import Validation
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.store.engine import make_engine
from chartroute.store.quarantine import location_key
from chartroute.validation.feed import FeedValidator
from tests.validation.feeds import Line, arbitrary_feed, labelled_feed
from tests.validation.helpers import held, ingest, stored_keys

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)
VALIDATOR = FeedValidator(Validation(), AS_OF)
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Examples of a whole sync in the slow tests: each costs ~0.7 s, most of it the suites' fixed
#: cost per table; the whole suite must stay under 10 minutes on two cores, and longer fuzz
#: runs live in bench/fuzz/run.py.
AT_LENGTH = 20


def _write(folder: Path, lines: list[tuple[str, str]]) -> list[str]:
    """Write lines into their files; returns each line's location, in order."""
    by_file: dict[str, list[str]] = defaultdict(list)
    locations = []
    for file, text in lines:
        by_file[file].append(text)
        locations.append(f"{file}:{len(by_file[file])}")
    folder.mkdir(parents=True, exist_ok=True)
    for file, texts in by_file.items():
        (folder / file).write_text("\n".join(texts) + "\n")
    return locations


@settings(FUZZ, max_examples=40)
@given(labelled_feed())
def test_decode_and_validate_sort_every_record_correctly(feed: list[Line]) -> None:
    items = [
        decode_record(SourceRecord(location=f"f:{i}", raw=line.text.encode()))
        for i, line in enumerate(feed)
    ]
    screened = VALIDATOR.screen(items)
    for line, item in zip(feed, screened.items, strict=True):
        if line.expect is None:
            assert isinstance(item, Decoded), (line, item)
        else:
            assert isinstance(item, Rejected), line
            assert any(line.expect in r for r in item.reasons), (line.expect, item.reasons)


def _sync_labelled(feed: list[Line]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'db.sqlite'}")
        try:
            locations = _write(folder / "feed", [(line.file, line.text) for line in feed])
            _, counts = ingest(engine, folder / "feed", AS_OF)
            stored, quarantine = stored_keys(engine), held(engine)
        finally:
            engine.dispose()
    assert counts.read == len(feed) == counts.stored + counts.quarantined
    assert counts.quarantined == sum(line.expect is not None for line in feed)
    for line, location in zip(feed, locations, strict=True):
        if line.expect is None:
            assert line.key in stored and line.key not in quarantine, line
            continue
        record = quarantine[line.key or location_key(location)]
        assert any(line.expect in r for r in record.reasons), (line.expect, record.reasons)
        assert location in record.location.split(", ")


@settings(FUZZ, max_examples=8)
@given(labelled_feed())
def test_sync_stores_the_good_and_quarantines_the_bad(feed: list[Line]) -> None:
    _sync_labelled(feed)


@pytest.mark.slow
@settings(FUZZ, max_examples=AT_LENGTH)
@given(labelled_feed())
def test_sync_stores_the_good_and_quarantines_the_bad_at_length(feed: list[Line]) -> None:
    _sync_labelled(feed)


def _expected_key(text: str) -> str | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    rtype, rid = value.get("resourceType"), value.get("id")
    return f"{rtype}/{rid}" if isinstance(rtype, str) and isinstance(rid, str) else None


def _sync_arbitrary(feed: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'db.sqlite'}")
        try:
            locations = _write(folder / "feed", feed)
            _, counts = ingest(engine, folder / "feed", AS_OF)
            stored, quarantine = stored_keys(engine), held(engine)
        finally:
            engine.dispose()
    assert counts.read == len(feed)
    assert counts.read == counts.stored + counts.quarantined + counts.skipped_types
    held_at = {loc for r in quarantine.values() for loc in r.location.split(", ")}
    for (_, text), location in zip(feed, locations, strict=True):
        key = _expected_key(text)
        accounted = location in held_at or (key is not None and key in stored)
        skipped = key is not None and not any(
            key.startswith(t + "/")
            for t in (
                "Encounter",
                "DocumentReference",
                "ServiceRequest",
                "DiagnosticReport",
                "Claim",
                "Task",
                "Composition",
                "ClaimResponse",
                "Condition",
                "QuestionnaireResponse",
            )
        )
        assert accounted or skipped, (location, json.loads(text) if key else text)
        for record in quarantine.values():
            assert record.reasons and all(isinstance(r, str) and r for r in record.reasons)


@settings(FUZZ, max_examples=8)
@given(arbitrary_feed())
def test_arbitrary_json_never_crashes_and_every_record_is_accounted_for(
    feed: list[tuple[str, str]],
) -> None:
    _sync_arbitrary(feed)


@pytest.mark.slow
@settings(FUZZ, max_examples=AT_LENGTH)
@given(arbitrary_feed())
def test_arbitrary_json_at_length(feed: list[tuple[str, str]]) -> None:
    _sync_arbitrary(feed)
