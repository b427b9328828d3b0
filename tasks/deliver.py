"""The deliver task: compose and send the outbox, with secrets from the env or Prefect blocks.

Retried only for database trouble: a channel that is down does not fail the task — its
messages stay in the outbox with a backoff, and the next run picks them up, reconciling any
attempt a crash interrupted; the flow then ends Failed, naming what was left undone. Logs and
the artifact carry counts and channel names only.
"""

from __future__ import annotations

from dataclasses import asdict

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact

from chartroute.config.secrets import SecretRef, SecretUnavailable
from chartroute.notify.deliver import DeliverCounts, deliver
from chartroute.notify.secrets import MissingSecret
from chartroute.pinned_config import PinnedConfig
from chartroute.tasks import context
from chartroute.tasks.retry import DATABASE_ONLY, UNCACHED
from chartroute.tasks.secrets import prefect_secret


def resolve_secret(ref: SecretRef) -> str:
    """An environment variable or a Prefect Secret block, as the reference says."""
    try:
        return ref.resolve(prefect_secret)
    except SecretUnavailable as exc:
        raise MissingSecret(str(exc)) from None


@task(name="deliver", **DATABASE_ONLY.options(), **UNCACHED)
def deliver_task(config: PinnedConfig) -> DeliverCounts:
    """Compose digests and urgent messages and send what is due on every channel."""
    counts = deliver(context.engine(), context.config(config), resolve=resolve_secret)
    logger = get_run_logger()
    logger.info(
        "composed %d digests and %d single-item messages, %d urgent (%d held for clinic hours); "
        "sent %d, already sent %d, retrying %d, dead-lettered %d",
        counts.digests,
        counts.immediate,
        counts.urgent,
        counts.held,
        counts.sent,
        counts.reconciled,
        counts.retrying,
        counts.failed,
    )
    if counts.mode == "shadow":
        logger.info("shadow mode: %d messages recorded as shadow; nothing sent", counts.shadow)
    for name, why in counts.unavailable.items():
        logger.warning("channel %s skipped: %s", name, why)
    note = counts.undelivered()
    if note:  # the flow ends Failed with this note (flows/undelivered.py)
        logger.warning("%s", note)
    rows = [{"count": k, "value": v} for k, v in asdict(counts).items() if isinstance(v, int)]
    rows += [{"count": f"outbox {k}", "value": v} for k, v in counts.outbox.items()]
    create_table_artifact(key="outbox-delivery", table=rows, description="Deliver step counts")
    return counts
