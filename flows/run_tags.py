"""The tags every chartroute flow run carries, whoever starts it.

The failure alert (``deployments/automations.py``) matches flow runs tagged ``chartroute``; a
run without the tag fails silently. Runs of a deployment take the deployment's tags; a run
started by a command (``chartroute sync`` typed by hand) or as a subflow takes the tags of the
``prefect.tags`` context it starts in, so commands start their flows inside ``tagged`` and a
flow that starts subflows passes its own tags on. The practice's name is a second tag
(``practice:<name>``), so one Prefect server can tell several practices' runs apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import tags
from prefect.runtime import flow_run

#: The tag the failure alert matches.
CHARTROUTE_TAG = "chartroute"


def run_tags(practice_name: str | None) -> list[str]:
    """``chartroute`` and, for a practice, ``practice:<its name>``."""
    return [CHARTROUTE_TAG] + ([f"practice:{practice_name}"] if practice_name else [])


@contextmanager
def tagged(practice_name: str | None) -> Iterator[None]:
    """Flow runs started inside carry the run tags (and any tags already in the context)."""
    with tags(*run_tags(practice_name)):
        yield


@contextmanager
def subflows_tagged_like_this_run() -> Iterator[None]:
    """Subflows started inside carry the tags of the flow run that starts them.

    A run picked up by a worker or ``serve`` has its deployment's tags, but its process has
    no ``prefect.tags`` context, so its subflows would otherwise carry none.
    """
    with tags(CHARTROUTE_TAG, *flow_run.get_tags()):
        yield
