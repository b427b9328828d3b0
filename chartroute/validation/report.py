"""The end of a run's validate step: orphan references, Data Docs, and the bad-record threshold.

The suites run over the run's records as they are read (``chartroute/ingest.py``); what needs
the stored run happens here, once every partition is stored and before anything is classified
or routed: counting links whose target never arrived (over the facts this run wrote, so file
order does not matter), writing the Data Docs pages, and deciding whether the share of bad
records is small enough to go on. A run that read nothing loads no Great Expectations here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from chartroute.config.validation import Validation
from chartroute.store.engine import home
from chartroute.store.schema import sync_run
from chartroute.validation.datadocs import write_data_docs
from chartroute.validation.feed import Checks, FeedValidator, merge_checks
from chartroute.validation.references import REFERENCES_TABLE, links_written_since
from chartroute.validation.threshold import BadShare


@dataclass
class RunValidation:
    """What the validate step found in one run (identifiers and counts only)."""

    share: BadShare
    checks: Checks = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    orphans: int = 0
    data_docs: Path | None = None

    def table_rows(self) -> list[dict[str, object]]:
        """Rows for the run's artifact: one per expectation, then one per reason."""
        rows: list[dict[str, object]] = [
            {"kind": "expectation", "name": label, "checked": c["checked"], "failed": c["failed"]}
            for label, c in sorted(self.checks.items())
        ]
        rows += [
            {"kind": "reason", "name": label, "checked": None, "failed": n}
            for label, n in sorted(self.reasons.items())
        ]
        return rows


@dataclass(frozen=True)
class ValidationSummary:
    """The run's validation as the sync returns it: the bad share, orphans, the Data Docs."""

    bad_share: float
    orphan_references: int
    data_docs: str | None

    @classmethod
    def of(cls, checked: RunValidation) -> ValidationSummary:
        docs = str(checked.data_docs) if checked.data_docs else None
        return cls(checked.share.share, checked.orphans, docs)


def data_docs_folder(settings: Validation) -> Path:
    return Path(settings.data_docs_dir) if settings.data_docs_dir else home() / "data-docs"


def validate_run(
    engine: Engine,
    run_id: str,
    settings: Validation,
    as_of: datetime,
    *,
    read: int,
    quarantined: int,
    checks: Mapping[str, Mapping[str, int]],
    reasons: Mapping[str, int],
    data_docs: bool = True,
) -> RunValidation:
    """Count orphans, write Data Docs and measure the bad share of the run ``run_id``.

    Never raises for a broken feed: the caller decides what an exceeded share does (the flow
    fails the run). Raises ``SuiteError`` for a bad suite file.
    """
    validator = FeedValidator(settings, as_of)
    with engine.connect() as conn:
        started = conn.execute(
            select(sync_run.c.started_at).where(sync_run.c.id == run_id)
        ).scalar_one()
        orphan_checks = validator.count_orphans(links_written_since(conn, started))
    merged = merge_checks({}, checks)
    merge_checks(merged, orphan_checks)
    result = RunValidation(
        share=BadShare(read, quarantined, settings.max_bad_share),
        checks=merged,
        reasons=dict(reasons),
        orphans=sum(
            c["failed"] for label, c in orphan_checks.items() if label.startswith(REFERENCES_TABLE)
        ),
    )
    if data_docs and merged:
        # A run that checked nothing (an unchanged rerun) adds no page: GX is not even loaded.
        suites = list(validator.runner.suites.values())
        result.data_docs = write_data_docs(
            data_docs_folder(settings),
            run_id,
            started,
            suites,
            merged,
            keep_runs=settings.data_docs_keep_runs,
        )
    return result
