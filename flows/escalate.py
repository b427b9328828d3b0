"""The escalation sweep flow: take the sweep lease → sweep → publish → deliver → release."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from chartroute.pinned_config import pin_config
from chartroute.tasks.deliver import deliver_task
from chartroute.tasks.escalate import sweep_summary_task, sweep_task
from chartroute.tasks.lease import LEASE_HOOKS, SWEEP_LEASE, release_lease_task, take_lease_task


class SweepParameters(BaseModel):
    """Parameters of an escalation sweep (shown as a form in the Prefect UI)."""

    config: str = Field(default="config/practice.yaml", description="Practice YAML file.")
    as_of: datetime | None = Field(
        default=None, description="Escalate as of this instant (default: now)."
    )
    deliver: bool = Field(
        default=True, description="Send the outbox (digests, urgent messages) at the end."
    )


@flow(name="chartroute-escalate", retries=1, retry_delay_seconds=120, **LEASE_HOOKS)
def escalate_flow(params: SweepParameters) -> dict[str, Any]:
    """Tell the next person up about every work item that has stayed open too long."""
    pin, _ = pin_config(params.config)  # read once: every task checks it is unchanged
    token = take_lease_task(SWEEP_LEASE)
    result = sweep_summary_task(sweep_task(pin, params.as_of))
    if params.deliver:
        result["deliver"] = asdict(deliver_task(pin))
    release_lease_task(token)
    return result
