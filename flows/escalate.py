"""The escalation sweep flow: take the sweep lease → sweep → publish → deliver → release."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow

from chartroute.flows.parameters import DEFAULT_CONFIG, PracticeFile
from chartroute.flows.run_tags import untagged_tasks
from chartroute.pinned_config import pin_config
from chartroute.tasks.deliver import deliver_task
from chartroute.tasks.escalate import sweep_summary_task, sweep_task
from chartroute.tasks.lease import LEASE_HOOKS, SWEEP_LEASE, release_lease_task, take_lease_task


@flow(name="chartroute-escalate", retries=1, retry_delay_seconds=120, **LEASE_HOOKS)
def escalate_flow(
    config: PracticeFile = DEFAULT_CONFIG, as_of: datetime | None = None, deliver: bool = True
) -> dict[str, Any]:
    """Tell the next person up about every work item that has stayed open too long.

    Args:
        config: Practice YAML file.
        as_of: Escalate as of this instant (default: now).
        deliver: Send the outbox (digests, urgent messages) at the end.
    """
    pin, _ = pin_config(config)  # read once: every task checks it is unchanged
    with untagged_tasks():
        token = take_lease_task(SWEEP_LEASE)
        result = sweep_summary_task(sweep_task(pin, as_of))
        if deliver:
            result["deliver"] = asdict(deliver_task(pin))
        release_lease_task(token)
    return result
