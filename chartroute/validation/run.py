"""Run the suites over the fact tables with Great Expectations; return the failing rows.

Each table is validated as one in-memory batch of an ephemeral GX context (no project folder,
no stores on disk), asking for failing rows by the table's unique ``row`` column
(``result_format=COMPLETE`` with ``unexpected_index_column_names``). Three settings keep the
cost near that of the same checks written as pandas masks (``bench/validation.md``): the
import happens only here, progress bars are off, and GX's per-batch fingerprint — an md5 over
every cell of the frame, as costly as all the checks together and used only as a label on the
result — is skipped.

GX keeps a process-wide "current context" and is not documented as thread-safe, so runs are
serialised with a lock; a sync validates its windows one after another, so this only matters
when tasks run concurrently in one process.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chartroute.validation.gx_import import import_gx
from chartroute.validation.suites import OnFail, Suite, SuiteError

if TYPE_CHECKING:
    import pandas as pd

GX_LOCK = threading.RLock()
#: Every failing row by its ``row`` number, without the failing values: cheaper to build and
#: copy, and no record content in a result.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row"],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class ExpectationOutcome:
    """What one expectation found in one table: counts, and the failing row numbers."""

    table: str
    reason: str
    on_fail: OnFail
    checked: int
    failed: int
    rows: tuple[int, ...]


class SuiteRunner:
    """An ephemeral GX context holding the suites, ready to validate frames by table."""

    def __init__(self, suites: Sequence[Suite]):
        with GX_LOCK:
            gx = import_gx()
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )
            from great_expectations.expectations.expectation_configuration import (
                ExpectationConfiguration,
            )

            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
                analytics_enabled=False,
            )
            self._context = gx.get_context(project_config=config, mode="ephemeral")
            source = self._context.data_sources.add_pandas("chartroute")
            self._source = source
            #: per table, its whole-frame batch definition and its suite
            self._tables: dict[str, tuple[Any, Any]] = {}
            self.suites: dict[str, Suite] = {}
            for suite in suites:
                expectations = []
                for spec in suite.expectations:
                    try:
                        expectations.append(
                            ExpectationConfiguration(**spec.gx_config()).to_domain_obj()
                        )
                    except Exception as exc:
                        raise SuiteError(f"{suite.where(spec)}: {_message(exc)}") from None
                gx_suite = self._context.suites.add(
                    gx.ExpectationSuite(name=suite.table, expectations=expectations)
                )
                asset = source.add_dataframe_asset(name=suite.table)
                whole_frame = asset.add_batch_definition_whole_dataframe("whole")
                self._tables[suite.table] = (whole_frame, gx_suite)
                self.suites[suite.table] = suite

    def run(
        self, frames: Mapping[str, pd.DataFrame], parameters: Mapping[str, Any]
    ) -> list[ExpectationOutcome]:
        """Validate every frame that has a suite and rows; tables without either are skipped."""
        from pandas.errors import Pandas4Warning

        outcomes: list[ExpectationOutcome] = []
        for table, frame in frames.items():
            gx_table = self._tables.get(table)
            if gx_table is None or frame.empty:
                continue
            batch_definition, gx_suite = gx_table
            with GX_LOCK, warnings.catch_warnings():
                # GX 1.24's metric code reads tz-aware columns in a way pandas 3 deprecates.
                warnings.simplefilter("ignore", Pandas4Warning)
                try:
                    # a batch validated directly, not a ValidationDefinition run: that run
                    # also keeps every result in the context's store for the process's life
                    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
                    result = batch.validate(
                        gx_suite,
                        expectation_parameters=dict(parameters),
                        result_format=RESULT_FORMAT,
                    )
                finally:
                    self._release_batches()
            outcomes.extend(self._outcomes(table, result.results))
        return outcomes

    def _release_batches(self) -> None:
        """Drop the batches GX keeps after a run: its execution engine holds the last frame
        of every table (and the strings its columns point at) for as long as the process
        lives, over 100 MB at 100k encounters, for nothing: every run loads its own batch."""
        manager = self._source.get_execution_engine().batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()

    def _outcomes(self, table: str, results: Sequence[Any]) -> list[ExpectationOutcome]:
        suite = self.suites[table]
        by_reason = {spec.reason: spec for spec in suite.expectations}
        order = {spec.reason: spec.position for spec in suite.expectations}
        out = []
        for result in results:
            spec = by_reason[result.expectation_config.meta["reason"]]
            error = _raised(result.exception_info)
            if error is not None:
                raise SuiteError(f"{suite.where(spec)}: could not run: {error}")
            detail = result.result or {}
            rows = _failing_rows(detail.get("unexpected_index_list"))
            failed = detail.get("unexpected_count")
            if failed is None:
                failed = 0 if result.success else 1
            out.append(
                ExpectationOutcome(
                    table=table,
                    reason=spec.reason,
                    on_fail=spec.on_fail,
                    checked=int(detail.get("element_count") or 0),
                    failed=int(failed),
                    rows=rows,
                )
            )
        return sorted(out, key=lambda o: order[o.reason])


def _failing_rows(index_list: Any) -> tuple[int, ...]:
    """Row numbers from ``unexpected_index_list``: one dict per failing row, or — with
    ``exclude_unexpected_values`` — one dict holding the list of failing rows."""
    rows: list[int] = []
    for item in index_list or ():
        value = item["row"]
        if isinstance(value, list):
            rows.extend(int(v) for v in value)
        else:
            rows.append(int(value))
    return tuple(rows)


def _raised(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    for value in info.values():
        message = _raised(value)
        if message is not None:
            return message
    return None


def _message(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(str(text).split())[:500]
