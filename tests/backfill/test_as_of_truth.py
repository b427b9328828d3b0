"""Reconstruction against ground truth: the generator can emit the EHR as it stood on day D.

For sampled days, the blockers the backfill reconstructs from the final export must equal the
blockers of classifying the as-of-D export as of D, for every category the times in the data
can show. Documentation gaps depend on when a field of the Encounter was filled in, which the
final Encounter does not say: there the reconstruction must be a subset of the truth (a gap
still open at the end was open on D), never invent a gap.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from chartroute.backfill.asof import open_blockers_at
from chartroute.backfill.history import day_end
from chartroute.charts import FactIndex
from chartroute.classify import classify_chart
from chartroute.generate import generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.sources.decode import Decoded, decode_record
from chartroute.store import facts as fact_store
from chartroute.store.schema import backfill_encounter

from .conftest import START, Practice, profile

Pairs = dict[str, set[tuple[str, str]]]
EXACT = {"unsigned-note", "pending-result", "awaiting-referral-auth", "coding-query"}
#: Days sampled: the first week, mid-range, a weekend, the last clinic week, after the end.
SAMPLED = [START + timedelta(days=n) for n in (1, 9, 19, 26, 38, 44)]


def truth(out: Path, practice: Practice, day: date) -> Pairs:
    """Open blockers per chart of the EHR as it stood at the end of ``day``."""
    at = day_end(day, practice.config.practice.timezone)
    generate_practice(out, profile(at))
    index = FactIndex()
    source = NdjsonDirSource(out)
    for part in source.partitions():
        for record in source.read(part):
            item = decode_record(record)
            assert isinstance(item, Decoded), f"generated record rejected: {record.location}"
            for fact in item.facts:
                index.add(fact)
    cfg = practice.config
    found: Pairs = defaultdict(set)
    for chart in index.charts():
        verdict = classify_chart(chart, cfg.charts, cfg.documentation, at)
        if verdict.is_open:
            found[verdict.encounter] = {(b.category, b.subject) for b in verdict.blockers}
    return found


def reconstructed(engine: Engine, practice: Practice, day: date) -> Pairs:
    """Open blockers per chart reconstructed from the final export for the end of ``day``."""
    at = day_end(day, practice.config.practice.timezone)
    with engine.connect() as conn:
        keys = [
            r.encounter
            for r in conn.execute(
                select(backfill_encounter.c.encounter).where(backfill_encounter.c.start_day <= day)
            )
        ]
        charts = fact_store.load_charts(conn, sorted(keys))
    found: Pairs = defaultdict(set)
    for key, chart in charts.items():
        blockers = open_blockers_at(chart, practice.config, at)
        if blockers:
            found[key] = {(b.category, b.subject) for b in blockers}
    return found


def _only(pairs: Pairs, keep: set[str] | None, drop: set[str] | None = None) -> Pairs:
    out: Pairs = {}
    for enc, items in pairs.items():
        kept = {p for p in items if (keep is None or p[0] in keep) and p[0] not in (drop or ())}
        if kept:
            out[enc] = kept
    return out


@pytest.mark.slow
@pytest.mark.parametrize("day", SAMPLED, ids=[d.isoformat() for d in SAMPLED])
def test_reconstruction_matches_the_ehr_as_it_stood(
    tmp_path: Path, practice: Practice, loaded_store: Engine, day: date
) -> None:
    expected = truth(tmp_path / "as-of", practice, day)
    got = reconstructed(loaded_store, practice, day)
    exact_expected, exact_got = _only(expected, EXACT), _only(got, EXACT)
    assert sum(map(len, exact_expected.values())) > 0, "sample day has no open blockers"
    missing = {e: exact_expected[e] - exact_got.get(e, set()) for e in exact_expected}
    extra = {e: exact_got[e] - exact_expected.get(e, set()) for e in exact_got}
    assert not {e: m for e, m in missing.items() if m}, "blockers open that day were missed"
    assert not {e: x for e, x in extra.items() if x}, "blockers reconstructed that were not open"
    gaps_expected = _only(expected, {"documentation-gap"})
    gaps_got = _only(got, {"documentation-gap"})
    for enc, items in gaps_got.items():
        assert items <= gaps_expected.get(enc, set()), f"{enc}: a gap that was not open"
