"""A Prefect automation that tells the engineers when a chartroute flow run fails.

It reacts to the failed, crashed and timed-out events of any flow run tagged ``chartroute``
(every chartroute deployment carries the tag) and sends a notification through a Prefect
notification block the engineer creates once — Slack, Microsoft Teams, email, PagerDuty or a
custom webhook. The message names the flow, the run, its state and a link to it in the UI;
never the state message or the logs, which are read in the UI by people allowed to.

``python -m chartroute.deployments.automations <block-type>/<block-name>`` creates or updates it;
``chartroute serve --alert-block …`` does the same at start-up.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from uuid import UUID

from prefect.automations import AutomationCore, EventTrigger, Posture, SendNotification
from prefect.client.orchestration import get_client

ALERT_NAME = "chartroute: flow run failed"
FAILED_EVENTS = {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"}
SUBJECT = "chartroute: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name }}"
BODY = (
    "Flow run {{ flow_run.name }} of {{ flow.name }}"
    "{% if deployment %} (deployment {{ deployment.name }}){% endif %} "
    "ended {{ flow_run.state.name }}. Logs and the error: {{ flow_run|ui_url }}"
)


def failure_alert(block_document_id: UUID) -> AutomationCore:
    """The automation, sending through the given notification block."""
    return AutomationCore(
        name=ALERT_NAME,
        description="Alert on a failed, crashed or timed-out chartroute flow run.",
        trigger=EventTrigger(
            expect=FAILED_EVENTS,
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={
                "prefect.resource.role": "tag",
                "prefect.resource.id": "prefect.tag.chartroute",
            },
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[SendNotification(block_document_id=block_document_id, subject=SUBJECT, body=BODY)],
    )


def ensure_failure_alert(block: str) -> UUID:
    """Create the automation, or point the existing one at ``block`` ("<type-slug>/<name>")."""
    block_type, _, name = block.partition("/")
    if not block_type or not name:
        raise ValueError(f"alert block {block!r}: expected '<block-type>/<block-name>'")
    with get_client(sync_client=True) as client:
        document = client.read_block_document_by_name(name=name, block_type_slug=block_type)
        automation = failure_alert(document.id)
        existing = client.read_automations_by_name(ALERT_NAME)
        if existing and existing[0].id is not None:
            client.update_automation(existing[0].id, automation)
            return existing[0].id
        return client.create_automation(automation)


if __name__ == "__main__":  # pragma: no cover - exercised through chartroute serve
    if len(sys.argv) != 2:
        sys.exit("usage: python -m chartroute.deployments.automations <block-type>/<block-name>")
    print(f"{ALERT_NAME}: {ensure_failure_alert(sys.argv[1])}")
