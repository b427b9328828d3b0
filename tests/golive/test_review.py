"""The classification review on a generated practice whose truth the generator knows.

A sheet filled from that truth measures precision 1.0 in every category with no misses; k
wrong verdicts give exactly (n-k)/n and its Wilson interval; the sample is stratified by
category and clinician and carries closed charts; importing twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from chartroute.config.review import ReviewSettings
from chartroute.review.accuracy import CategoryAccuracy, measure, measure_store
from chartroute.review.sample import allocate, draw_sample
from chartroute.review.sheet import COLUMNS, NONE, SheetRow, Verdict, read_sheet, sheet_csv
from chartroute.review.verdicts import ImportCounts, StoredVerdict, import_verdicts
from chartroute.store.schema import review_verdict, work_item
from chartroute.vocabulary import Category
from tests.golive.conftest import Practice, fill_from_truth

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
#: Larger than any category of the generated practice holds: the sample is every blocker.
EVERYTHING = 1000


def sample(engine: Engine, practice: Practice, size: int, seed: int = 1) -> list[SheetRow]:
    with engine.connect() as conn:
        return draw_sample(conn, practice.config, size, seed)


def store(engine: Engine, rows: list[SheetRow], tmp_path: Path) -> ImportCounts:
    """Write the rows as a sheet file, read it back and import it, as the command does."""
    path = tmp_path / "sheet.csv"
    path.write_text(sheet_csv(rows), encoding="utf-8")
    with engine.begin() as conn:
        return import_verdicts(conn, read_sheet(path), NOW, str(path))


def by_category(
    engine: Engine, settings: ReviewSettings | None = None
) -> dict[str, CategoryAccuracy]:
    with engine.connect() as conn:
        accuracy = measure_store(conn, settings or ReviewSettings())
    return {row.category: row for row in accuracy.categories}


def wilson_closed_form(k: int, n: int) -> tuple[float, float]:
    """Wilson's interval written as Newcombe (1998) gives it, independently of the module."""
    z = 1.959963984540054
    p, q = k / n, 1 - k / n
    root = z * math.sqrt(z * z + 4 * n * p * q)
    return (
        (2 * n * p + z * z - root) / (2 * (n + z * z)),
        (2 * n * p + z * z + root) / (2 * (n + z * z)),
    )


def test_the_sheet_has_its_columns_ids_and_links_only(synced: Engine, practice: Practice) -> None:
    rows = sample(synced, practice, 3)
    text = sheet_csv(rows)
    records = list(csv.DictReader(io.StringIO(text)))
    assert tuple(records[0]) == COLUMNS
    template = practice.config.practice.ehr_link_template or ""
    for record in records:
        assert record["link"] == template.replace("{encounter_id}", record["chart"][10:])
        assert record["verdict"] == record["correct_category"] == record["note"] == ""
    patients = {line.split('"id":"')[1].split('"')[0] for line in _lines(practice, "Patient")}
    assert patients and not [p for p in patients if p in text]
    assert "Patient/" not in text and "name" not in text.lower()


def _lines(practice: Practice, resource_type: str) -> list[str]:
    return (practice.folder / f"{resource_type}.ndjson").read_text().splitlines()


def test_the_sample_is_stratified_by_category_and_clinician_with_closed_charts(
    synced: Engine, practice: Practice
) -> None:
    with synced.connect() as conn:
        items = list(conn.execute(select(work_item).where(work_item.c.status == "open")))
    clinicians: dict[str, set[str]] = defaultdict(set)
    for item in items:
        clinicians[item.category].add(item.clinician or "")
    size = 4
    rows = sample(synced, practice, size)
    drawn = Counter(r.category for r in rows)
    totals = Counter(i.category for i in items)
    for category in Category:
        assert drawn[category] == min(size, totals[category]), category
        seen = {i.clinician or "" for i in items if i.encounter in _charts(rows, category)}
        assert len(seen) >= min(size, len(clinicians[category])), category
    assert drawn[NONE] == size
    assert rows == sample(synced, practice, size)  # the same seed draws the same sample
    assert rows != sample(synced, practice, size, seed=2)


def _charts(rows: list[SheetRow], category: str) -> set[str]:
    return {r.chart for r in rows if r.category == category}


def test_allocation_gives_each_clinician_one_then_shares() -> None:
    assert allocate({"a": 10, "b": 10, "c": 1}, 5) == {"a": 2, "b": 2, "c": 1}
    assert allocate({"a": 30, "b": 10}, 4) == {"a": 3, "b": 1}
    assert allocate({"a": 3, "b": 1}, 10) == {"a": 3, "b": 1}
    assert sum(allocate({"a": 7, "b": 5, "c": 2, "d": 1}, 2).values()) == 2


def test_a_sheet_filled_from_the_generators_truth_measures_precision_one(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    rows = fill_from_truth(practice, sample(synced, practice, EVERYTHING))
    counts = store(synced, rows, tmp_path)
    measured = by_category(synced)

    assert counts.added == len(rows) and counts.blank == 0
    assert set(measured) == {*Category, NONE}
    for category, row in measured.items():
        assert (row.precision, row.high, row.misses) == (1.0, 1.0, 0), category
        assert row.reviewed == Counter(r.category for r in rows)[category]
        expected_low, _ = wilson_closed_form(row.reviewed, row.reviewed)
        assert row.low == pytest.approx(expected_low, abs=1e-12)
        assert row.ready == (row.reviewed >= 20 and expected_low >= 0.90)


def test_k_wrong_verdicts_give_the_exact_precision_and_interval(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    truth = fill_from_truth(practice, sample(synced, practice, EVERYTHING))
    target = Category.DOCUMENTATION_GAP
    ours = [i for i, r in enumerate(truth) if r.category == target]
    n, previous = len(ours), 0
    assert by_category(synced).get(target) is not None and store(synced, truth, tmp_path).added
    for wrong in (1, 3, 7):  # each sheet re-imported over the last: its verdicts change
        rows = list(truth)
        for i in ours[:wrong]:
            rows[i] = replace(rows[i], verdict=Verdict.WRONG.value)
        counts = store(synced, rows, tmp_path)
        row = by_category(synced)[target]

        low, high = wilson_closed_form(n - wrong, n)
        assert counts.changed == wrong - previous
        assert (row.reviewed, row.correct) == (n, n - wrong)
        assert row.precision == pytest.approx((n - wrong) / n, abs=1e-15)
        assert (row.low, row.high) == (
            pytest.approx(low, abs=1e-12),
            pytest.approx(high, abs=1e-12),
        )
        assert not row.ready and row.wrong_evidence == [("Encounter", wrong)]
        previous = wrong


def test_a_category_below_the_bar_names_what_is_most_often_wrong(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    rows = fill_from_truth(practice, sample(synced, practice, EVERYTHING))
    gaps = [i for i, r in enumerate(rows) if r.category == Category.DOCUMENTATION_GAP]
    for i in gaps[:5]:
        rows[i] = replace(rows[i], verdict=Verdict.WRONG.value)
    store(synced, rows, tmp_path)
    row = by_category(synced)[Category.DOCUMENTATION_GAP]

    fields = Counter(
        "forms" if s.startswith("form:") else s for s in (rows[i].subject for i in gaps[:5])
    )
    assert not row.ready and row.status.startswith(("below", "needs"))
    assert dict(row.wrong_fields) == dict(fields.most_common(3))
    assert row.wrong_evidence == [("Encounter", 5)]
    rules = {f"documentation-gap/{'form' if f == 'forms' else f}" for f in fields}
    assert {name for name, _ in row.wrong_rules} <= rules


def test_missing_and_miscategorised_rows_are_misses_of_their_category(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    rows = fill_from_truth(practice, sample(synced, practice, 2))
    closed = next(r for r in rows if r.category == NONE and r.verdict == Verdict.CORRECT)
    pending = next(r for r in rows if r.category == Category.PENDING_RESULT)
    rows = [r for r in rows if r not in (closed, pending)]
    rows += [
        replace(closed, verdict="wrong", correct_category=Category.CODING_QUERY.value),
        replace(pending, verdict="wrong", correct_category=Category.AWAITING_REFERRAL_AUTH.value),
        SheetRow(closed.chart, Category.UNSIGNED_NOTE.value, evidence="note", verdict="missing"),
    ]
    store(synced, rows, tmp_path)
    measured = by_category(synced)

    assert measured[Category.CODING_QUERY].misses == 1
    assert measured[Category.AWAITING_REFERRAL_AUTH].misses == 1
    assert measured[Category.UNSIGNED_NOTE].misses == 1
    assert measured[NONE].correct == measured[NONE].reviewed - 1
    assert measured[Category.PENDING_RESULT].misses == 0


def test_importing_the_same_sheet_again_changes_nothing(
    synced: Engine, practice: Practice, tmp_path: Path
) -> None:
    rows = fill_from_truth(practice, sample(synced, practice, 3))
    first = store(synced, rows, tmp_path)
    with synced.connect() as conn:
        before = conn.execute(select(review_verdict).order_by(*review_verdict.primary_key)).all()
    again = store(synced, rows, tmp_path)
    with synced.connect() as conn:
        after = conn.execute(select(review_verdict).order_by(*review_verdict.primary_key)).all()
    changed = [replace(rows[0], note="checked again with the coder")]
    third = store(synced, changed + rows[1:], tmp_path)

    assert (first.added, first.changed) == (len(rows), 0)
    assert (again.added, again.changed, again.unchanged) == (0, 0, len(rows))
    assert before == after
    assert (third.added, third.changed, third.unchanged) == (0, 1, len(rows) - 1)


def _verdicts(category: str, correct: int, wrong: int = 0) -> list[StoredVerdict]:
    return [
        StoredVerdict(f"Encounter/{category}-{i}", category, f"s{i}", verdict, None, "")
        for i, verdict in enumerate([Verdict.CORRECT] * correct + [Verdict.WRONG] * wrong)
    ]


def test_the_practice_is_ready_only_when_every_category_present_is() -> None:
    settings = ReviewSettings()
    reviewed = _verdicts("unsigned-note", 35) + _verdicts(NONE, 40)
    assert measure(reviewed, {"unsigned-note", NONE}, settings).ready
    waiting = measure(reviewed, {"unsigned-note", NONE, "pending-result"}, settings)
    assert not waiting.ready
    assert [c.status for c in waiting.categories if c.category == "pending-result"] == [
        "needs 20 more reviews"
    ]
    short = measure(_verdicts("unsigned-note", 34) + _verdicts(NONE, 40), {NONE}, settings)
    assert not short.ready  # 34 of 34: the lower end is 0.898
    low = measure(_verdicts("unsigned-note", 38, 2), {"unsigned-note"}, settings)
    assert [c.status for c in low.categories] == ["below 0.90"]


def test_a_category_with_no_open_work_left_is_not_waited_for(
    synced: Engine, practice: Practice
) -> None:
    with synced.begin() as conn:
        conn.execute(
            update(work_item)
            .where(work_item.c.category == Category.CODING_QUERY.value)
            .values(status="closed")
        )
        shown = {c.category for c in measure_store(conn, ReviewSettings()).categories}
    assert Category.CODING_QUERY not in shown and Category.UNSIGNED_NOTE in shown
