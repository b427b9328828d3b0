"""How a flow that delivers ends when delivery left work undone: ``Failed``, with the reason.

Dead letters and a channel left down are invisible in a run that ends ``Completed``: exit-code
monitoring and the Prefect UI would call it a success while messages pile up. The flow's work is
committed and its lease released before this decides the final state; the state's message says
how many and where to look, so the failure alert (``chartroute alerts create``) carries it. A
caller that runs the flow in process gets ``Undelivered`` with the flow's result attached.
"""

from __future__ import annotations

from typing import Any

from prefect.states import Failed

from chartroute.notify.deliver import DeliverCounts, Undelivered


def final_state(result: dict[str, Any], delivered: DeliverCounts | None) -> Any:
    """``result`` when delivery left nothing undone, else a ``Failed`` state that names it."""
    note = delivered.undelivered() if delivered is not None else None
    if note is None:
        return result
    return Failed(message=note, data=Undelivered(note, result))
