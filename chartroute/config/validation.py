"""The ``validation`` section of the practice YAML: how much bad data a run tolerates.

A real EHR feed always carries some bad records, and each is quarantined while the rest flows
on; but when a large share of a feed is bad, the feed itself is broken (a vendor change, a
truncated export) and routing work from what is left would mislead people. ``max_bad_share``
draws that line.
"""

from __future__ import annotations

from pydantic import Field

from chartroute.config.base import StrictModel


class Validation(StrictModel):
    """Data validation: the bad-record threshold and where the expectation suites live."""

    max_bad_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Largest share of the records read in one run that may be quarantined; "
        "above it `classify` exits 2 and a sync run fails instead of routing a broken feed.",
    )
    future_tolerance_hours: float = Field(
        default=24,
        ge=0,
        description="How far past the time the feed is read (or a later as-of time) a recorded "
        "date (lastUpdated, authoredOn, issued, a finished visit's end) may lie before the "
        "record is held as bad; absorbs clock skew and dates written without a timezone.",
    )
    suites_dir: str | None = Field(
        default=None,
        description="Folder of Great Expectations suite files (YAML or JSON), one per fact "
        "table, that an engineer edits to change the checks without touching code; default: "
        "the project's `config/expectations`.",
    )
    keep_raw_days: int = Field(
        default=7,
        ge=0,
        description="Days a quarantined record's raw bytes are kept for `chartroute quarantine "
        "--explain` after it was last seen; they may hold names and note text, so after this "
        "only its identifiers, location and reasons stay (0: never kept past the run).",
    )
    data_docs_dir: str | None = Field(
        default=None,
        description="Folder the sync writes Great Expectations Data Docs into; default "
        "`<CHARTROUTE_HOME>/data-docs`.",
    )
    data_docs_keep_runs: int = Field(
        default=50,
        ge=1,
        description="Runs whose Data Docs pages are kept: a run first removes the pages and "
        "results of older runs. Each run adds about 0.35 MB and an entry per table to the "
        "index, which every run rebuilds, so a run's Data Docs cost grows with what is kept "
        "(bench/README.md); without a bound a sync every 15 minutes would slow down week by "
        "week. The run counts stay in the store and in Prefect.",
    )
