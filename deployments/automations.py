"""A Prefect automation that tells the engineers when a chartroute flow run fails.

It reacts to the failed, crashed and timed-out events of any flow run tagged ``chartroute``
(every chartroute flow run carries the tag, whoever starts it: ``flows/run_tags.py``) and
sends a notification through a Prefect notification block the engineer creates once — Slack,
Microsoft Teams, email, PagerDuty or a custom webhook. The message names the flow, the run,
its state and a link to it in the UI; never the state message or the logs, which are read in
the UI by people allowed to.

``chartroute alerts create <block-type>/<block-name>`` creates or updates it;
``chartroute serve --alert-block …`` does the same at start-up.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from prefect.automations import AutomationCore, EventTrigger, Posture, SendNotification
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from chartroute.flows.run_tags import CHARTROUTE_TAG

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
                "prefect.resource.id": f"prefect.tag.{CHARTROUTE_TAG}",
            },
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[SendNotification(block_document_id=block_document_id, subject=SUBJECT, body=BODY)],
    )


class AlertBlockNotFound(LookupError):
    """The notification block the alert should send through is not on the server."""


def ensure_failure_alert(block: str) -> UUID:
    """Create the automation, or point the existing one at ``block`` ("<type-slug>/<name>")."""
    block_type, _, name = block.partition("/")
    if not block_type or not name:
        raise ValueError(f"alert block {block!r}: expected '<block-type>/<block-name>'")
    with get_client(sync_client=True) as client:
        try:
            document = client.read_block_document_by_name(name=name, block_type_slug=block_type)
        except ObjectNotFound:
            raise AlertBlockNotFound(
                f"alert block {block!r} not found on the Prefect server at {client.api_url}: "
                "create it first (UI → Blocks → +, e.g. Slack Webhook or Custom Webhook; its "
                "type slug and name make '<block-type>/<name>')"
            ) from None
        automation = failure_alert(document.id)
        existing = client.read_automations_by_name(ALERT_NAME)
        if existing and existing[0].id is not None:
            client.update_automation(existing[0].id, automation)
            return existing[0].id
        return client.create_automation(automation)
