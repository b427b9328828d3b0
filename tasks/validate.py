"""The run-level half of the validate step, as a Prefect task with its artifacts.

Runs after every partition is stored and before cursors advance or anything is classified, so
a feed with too many bad records fails the flow run loudly — its cursors stay put and no work
item changes — instead of routing work from a broken feed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from chartroute import sync
from chartroute.validation.report import RunValidation, validate_run
from chartroute.validation.threshold import TooManyBadRecords
from chartroute.tasks import context
from chartroute.tasks.retry import DATABASE_ONLY, UNCACHED


@task(name="validate-run", **DATABASE_ONLY.options(), **UNCACHED)
def validate_run_task(
    run_id: str, config_path: str, as_of: datetime, ingest: dict[str, Any]
) -> dict[str, Any]:
    """Count orphan references, write Data Docs, publish the counts and apply the threshold."""
    settings = context.config(config_path).validation
    engine = context.engine()
    result = validate_run(
        engine,
        run_id,
        settings,
        as_of,
        read=int(ingest.get("read", 0)),
        quarantined=int(ingest.get("quarantined", 0)),
        checks=ingest.get("checks", {}),
        reasons=ingest.get("reasons", {}),
    )
    _publish(run_id, result)
    logger = get_run_logger()
    share = result.share
    if share.exceeded:
        error = TooManyBadRecords(share, f"sync run {run_id}")
        logger.error("%s", error)
        sync.finish_sync(engine, run_id, "failed", {"run_id": run_id, "ingest": ingest})
        raise error
    if share.bad:
        logger.warning("run %s: %s", run_id, share.describe())
    if result.orphans:
        logger.info("run %s: %d references point at resources not stored", run_id, result.orphans)
    return {
        "bad_share": share.share,
        "orphan_references": result.orphans,
        "data_docs": str(result.data_docs) if result.data_docs else None,
    }


def _publish(run_id: str, result: RunValidation) -> None:
    """The run's validation counts as artifacts: no record content, identifiers and counts."""
    create_table_artifact(
        key="validation-results",
        table=result.table_rows(),
        description=f"Rows checked and failed per expectation, records per reason, run {run_id}",
    )
    share = result.share
    lines = [
        f"### Validation of sync run {run_id}",
        "",
        f"- {share.describe()}: **{'FAILED' if share.exceeded else 'passed'}**",
        f"- references to resources not stored: {result.orphans}",
    ]
    if result.data_docs is not None:
        docs = result.data_docs
        lines.append(f"- Great Expectations Data Docs: [{docs}]({docs.resolve().as_uri()})")
    create_markdown_artifact(
        key="validation-summary",
        markdown="\n".join(lines),
        description="Bad-record share, orphan references and the Data Docs link",
    )
