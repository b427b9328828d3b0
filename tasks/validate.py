"""The run-level half of the validate step, as a Prefect task with its artifacts.

Runs after every partition is stored and before cursors advance or anything is classified, so
a feed with too many bad records fails the flow run loudly — its cursors stay put and no work
item changes — instead of routing work from a broken feed.
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from chartroute import sync
from chartroute.pinned_config import PinnedConfig
from chartroute.tasks import context
from chartroute.tasks.retry import DATABASE_ONLY, UNCACHED
from chartroute.validation.report import RunValidation, ValidationSummary
from chartroute.validation.threshold import TooManyBadRecords


@task(name="validate-run", **DATABASE_ONLY.options(), **UNCACHED)
def validate_run_task(
    plan: sync.SyncPlan, config: PinnedConfig, as_of: datetime, ingested: sync.IngestCounts
) -> ValidationSummary:
    """Count orphan references, write Data Docs, publish the counts and apply the threshold."""
    settings = context.config(config).validation
    engine = context.engine()
    result = sync.validate_ingested(engine, plan, settings, as_of, ingested)
    run_id = plan.run_id
    _publish(run_id, result)
    logger = get_run_logger()
    try:
        sync.refuse_bad_feed(engine, plan, result, ingested)
    except TooManyBadRecords as error:
        logger.error("%s", error)
        raise
    if result.share.bad:
        logger.warning("run %s: %s", run_id, result.share.describe())
    if result.orphans:
        logger.info("run %s: %d references point at resources not stored", run_id, result.orphans)
    return ValidationSummary.of(result)


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
