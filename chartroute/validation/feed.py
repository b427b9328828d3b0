"""The validate step: hold back the decoded records whose facts fail an expectation.

Called with a batch of decode results (the sync: up to one partition's worth; ``classify``: the
whole source), it builds the fact tables, runs the suites and turns every record owning a
failing row into a ``Rejected`` with each reason, so the store and the rules only ever see
records that passed. Records already rejected while decoding pass through unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from chartroute.config.validation import Validation
from chartroute.counts import merge_counts
from chartroute.fhir.facts import Fact
from chartroute.fhir.references import resource_key
from chartroute.heap import return_free_memory
from chartroute.sources.decode import Decoded, Rejected
from chartroute.validation.fact_tables import FactTables, build_fact_tables
from chartroute.validation.references import REFERENCES_TABLE, links_among, references_frame
from chartroute.validation.run import ExpectationOutcome, SuiteRunner
from chartroute.validation.suites import default_suites_dir, load_suites

if TYPE_CHECKING:
    import pandas as pd

#: Per expectation: rows checked and rows failed, keyed "table / reason" (counts only, no PHI).
Checks = dict[str, dict[str, int]]
#: A batch item: a decode result, or anything else the caller passes through (a deletion).
Item = TypeVar("Item")


def check_label(table: str, reason: str) -> str:
    return f"{table} / {reason}"


def tally(outcomes: Sequence[ExpectationOutcome]) -> Checks:
    """The counts of a set of outcomes, ready to merge across batches and partitions."""
    out: Checks = {}
    for o in outcomes:
        label = check_label(o.table, o.reason)
        merge_checks(out, {label: {"checked": o.checked, "failed": o.failed}})
    return out


def merge_checks(into: Checks, other: Mapping[str, Mapping[str, int]]) -> Checks:
    """Add ``other``'s counts into ``into`` (in place) and return it."""
    merge_counts(into, other)
    return into


@dataclass
class Screened(Generic[Item]):
    """A batch after the validate step, and what each expectation found in it."""

    items: list[Item | Rejected]
    checks: Checks = field(default_factory=dict)
    held: int = 0  # records newly rejected by an expectation


class FeedValidator:
    """The suites of one practice, applied as of one run's as-of time."""

    def __init__(
        self,
        settings: Validation,
        as_of: datetime,
        runner: SuiteRunner | None = None,
        read_at: datetime | None = None,
    ):
        self.settings = settings
        self.as_of = as_of
        self._runner = runner
        #: when the feed was read: a date is "in the future" against this, never against a
        #: chosen past as-of (a record stamped after a past as-of is a record that changed
        #: since, not bad input)
        self.read_at = read_at or datetime.now(UTC)

    @property
    def runner(self) -> SuiteRunner:
        """The suites in Great Expectations, built (and GX imported) on first use: a run with
        nothing to check never pays the 2.5-5 s that import costs."""
        if self._runner is None:
            self._runner = runner_for(self.settings.suites_dir)
        return self._runner

    def screen_text(self) -> bytes:
        """What the suites decide a record by (the suite files and the date tolerance), as
        bytes: a line recognised as stored was screened under these (chartroute/stored_lines.py).
        """
        directory = Path(self.settings.suites_dir or default_suites_dir())
        files = sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
        tolerance = str(self.settings.future_tolerance_hours).encode()
        spelled = [tolerance, *(f.read_bytes() for f in files)]
        return b"\0".join(spelled)

    @property
    def parameters(self) -> dict[str, Any]:
        """Values of ``$PARAMETER`` references in the suite files."""
        tolerance = timedelta(hours=self.settings.future_tolerance_hours)
        latest = max(self.as_of, self.read_at) + tolerance
        return {"as_of": self.as_of, "latest_allowed": latest}

    def screen(
        self,
        items: Sequence[Item],
        raw_of: Callable[[int], bytes] = lambda _i: b"",
    ) -> Screened[Item]:
        """Check every decoded record of ``items``; ``raw_of(i)`` gives item i's raw bytes.

        Items that are not ``Decoded`` (already rejected, or a deletion) pass through.
        """
        records = (
            (i, item.facts)
            for i, item in enumerate(items)
            if isinstance(item, Decoded) and item.facts
        )
        first = next(records, None)
        if first is None:  # nothing to check: GX is not loaded for it
            return Screened(list(items))
        # streamed: a list of (index, facts) pairs for a whole window is not kept beside it
        tables = build_fact_tables(chain((first,), records))
        outcomes: list[ExpectationOutcome] = []
        reasons: dict[int, list[str]] = {}
        for table in list(tables.frames):
            # one table at a time, its frame dropped once its failing rows are read
            frame = tables.frames.pop(table)
            table_outcomes = self.runner.run({table: frame}, self.parameters)
            outcomes.extend(table_outcomes)
            self._hold(items, tables, frame, table_outcomes, reasons)
            del frame
        out: list[Item | Rejected] = list(items)
        for index, why in sorted(reasons.items()):
            item = items[index]
            assert isinstance(item, Decoded)
            out[index] = Rejected(
                item.location, item.resource_type, item.resource_id, tuple(why), raw_of(index)
            )
        return Screened(out, tally(outcomes), len(reasons))

    @staticmethod
    def _hold(
        items: Sequence[Any],
        tables: FactTables,
        frame: pd.DataFrame,
        outcomes: Sequence[ExpectationOutcome],
        reasons: dict[int, list[str]],
    ) -> None:
        """Add each reason a quarantining outcome gives to the records owning its rows."""
        for outcome in outcomes:
            if outcome.on_fail != "quarantine" or not outcome.rows:
                continue
            keys = frame["key"]
            for row in outcome.rows:
                fact_key = str(keys.iat[row])
                for index in tables.owners(outcome.table, row):
                    item = items[index]
                    assert isinstance(item, Decoded)
                    reason = _located(outcome.reason, fact_key, item)
                    held = reasons.setdefault(index, [])
                    if reason not in held:
                        held.append(reason)

    def count_orphans(self, links: Iterable[tuple[str, str, bool]]) -> Checks:
        """Run the references suite over (fact, target, found) links; counts only.

        A window of ``LINKS_PER_CHECK`` links at a time: the suite checks each link on its own,
        so the counts add up across windows, and a first load of a large practice (over a
        million links at 100k encounters) no longer builds one frame of them all, the sync's
        peak of memory, growing with the practice.
        """
        links = iter(links)
        counts: Checks = {}
        while True:
            window = list(islice(links, LINKS_PER_CHECK))
            if not window:  # an empty table is skipped by the runner anyway: no GX for it
                return counts
            frame = references_frame(window)
            del window
            outcomes = self.runner.run({REFERENCES_TABLE: frame}, self.parameters)
            del frame
            return_free_memory()  # the frame, often the run's largest, is gone
            merge_checks(counts, tally(outcomes))

    def count_orphans_among(self, facts: Sequence[Fact]) -> Checks:
        """Orphan counts for facts held in memory (``classify``)."""
        return self.count_orphans(links_among(facts))


def _located(reason: str, fact_key: str, item: Decoded) -> str:
    """A contained resource's reason names it, so the engineer knows where to look."""
    own = resource_key(item.resource_type, item.resource_id)
    if fact_key == own or "#" not in fact_key:
        return reason
    return f"contained #{fact_key.split('#', 1)[1]}: {reason}"


#: Links checked together by ``count_orphans``.
LINKS_PER_CHECK = 200_000

_RUNNERS: dict[tuple[str, tuple[tuple[str, int], ...]], SuiteRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_for(suites_dir: str | None) -> SuiteRunner:
    """One runner per suites folder and process, rebuilt when a suite file changes."""
    directory = Path(suites_dir) if suites_dir else default_suites_dir()
    suites = load_suites(directory)
    signature = tuple((str(s.path), s.path.stat().st_mtime_ns) for s in suites)
    key = (str(directory.resolve()), signature)
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = SuiteRunner(suites)
            if len(_RUNNERS) >= 8:
                _RUNNERS.pop(next(iter(_RUNNERS)))
            _RUNNERS[key] = runner
    return runner
