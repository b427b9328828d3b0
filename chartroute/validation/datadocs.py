"""Great Expectations Data Docs for a sync run: one page per table, counts only.

A run validates each partition separately, so the run's result per expectation is the sum of
the partitions' counts. Those sums are turned back into GX validation results — rows checked,
rows failed, no unexpected values or row numbers, so the pages carry no record content — and
kept in a results folder next to the site, so the site's index lists the runs kept
(``validation.data_docs_keep_runs``, the newest 50 by default: every run rebuilds the index
from every result it finds, so an unbounded site made each run slower than the last). The report and
the Prefect artifact link the site's ``index.html``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from chartroute.validation.feed import Checks, check_label
from chartroute.validation.gx_import import import_gx
from chartroute.validation.run import GX_LOCK
from chartroute.validation.suites import Suite

RESULTS_FOLDER = "validation-results"
PAGES_FOLDER = "validations"  # where GX's site builder writes each result's page


def write_data_docs(
    folder: Path,
    run_name: str,
    run_time: datetime,
    suites: Sequence[Suite],
    checks: Checks,
    keep_runs: int = 50,
) -> Path:
    """Add this run's pages to the Data Docs site in ``folder``, keeping the pages of the
    ``keep_runs - 1`` newest runs before it; returns its index page."""
    prune_runs(folder, keep_runs - 1)
    with GX_LOCK:
        gx = import_gx()
        from great_expectations.core.expectation_validation_result import (
            ExpectationSuiteValidationResult,
            ExpectationValidationResult,
        )
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        folder.mkdir(parents=True, exist_ok=True)
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        )
        config.stores[config.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder / RESULTS_FOLDER),
            },
        }
        config.data_docs_sites = {
            "chartroute": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(folder),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
        context = gx.get_context(project_config=config, mode="ephemeral")
        run_id = RunIdentifier(run_name=run_name, run_time=run_time)
        keys = []
        for suite in suites:
            results = []
            for spec in suite.expectations:
                counts = checks.get(check_label(suite.table, spec.reason))
                if counts is None:
                    continue
                results.append(
                    ExpectationValidationResult(
                        success=counts["failed"] == 0,
                        expectation_config=ExpectationConfiguration(**spec.gx_config()),
                        result=_result(counts["checked"], counts["failed"]),
                    )
                )
            if not results:
                continue  # the table had no rows in this run
            passed = sum(1 for r in results if r.success)
            key = ValidationResultIdentifier(
                ExpectationSuiteIdentifier(name=suite.table), run_id, f"{suite.table}-{run_name}"
            )
            context.validation_results_store.set(
                key,
                ExpectationSuiteValidationResult(
                    success=passed == len(results),
                    results=results,
                    suite_name=suite.table,
                    statistics={
                        "evaluated_expectations": len(results),
                        "successful_expectations": passed,
                        "unsuccessful_expectations": len(results) - passed,
                        "success_percent": 100.0 * passed / len(results),
                    },
                    meta={
                        "run_id": run_id,
                        "batch_spec": {"data_asset_name": suite.table},
                        "batch_markers": {},
                    },
                ),
            )
            keys.append(key)
        context.build_data_docs(resource_identifiers=keys)
    return folder / "index.html"


def prune_runs(folder: Path, keep: int) -> int:
    """Remove the results and pages of all but the ``keep`` newest runs; returns how many
    runs went. GX rebuilds the site's index from every result it finds, so what is kept
    bounds a run's cost as well as the folder's size.

    Results are ``validation-results/<table>/<run name>/<run time>/…`` and pages
    ``validations/<table>/<run name>/<run time>/…``; GX writes the run time as
    ``YYYYMMDDTHHMMSS.ffffffZ``, which sorts as it reads.
    """
    runs: dict[str, str] = {}  # run name -> its run time
    places: list[tuple[str, Path]] = []
    for tree in (folder / RESULTS_FOLDER, folder / PAGES_FOLDER):
        if not tree.is_dir():
            continue
        for table in tree.iterdir():
            if not table.is_dir():
                continue
            for run in table.iterdir():
                times = [t.name for t in run.iterdir()] if run.is_dir() else []
                runs[run.name] = max([runs.get(run.name, ""), *times])
                places.append((run.name, run))
    newest = sorted(runs, key=lambda name: (runs[name], name), reverse=True)
    gone = set(newest[keep:])
    for name, place in places:
        if name in gone:
            shutil.rmtree(place, ignore_errors=True)
    return len(gone)


def _result(checked: int, failed: int) -> dict[str, Any]:
    percent = 100.0 * failed / checked if checked else 0.0
    return {
        "element_count": checked,
        "unexpected_count": failed,
        "unexpected_percent": percent,
        "unexpected_percent_nonmissing": percent,
        "missing_count": 0,
        "missing_percent": 0.0,
        "partial_unexpected_list": [],
    }
