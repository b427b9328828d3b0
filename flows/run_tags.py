"""The tags every chartroute flow run carries, whoever starts it.

The failure alert (``deployments/automations.py``) matches flow runs tagged ``chartroute``; a
run without the tag fails silently. Runs of a deployment take the deployment's tags; a run
started by a command (``chartroute sync`` typed by hand) or as a subflow takes the tags of the
``prefect.tags`` context it starts in, so commands start their flows inside ``tagged`` and a
flow that starts subflows passes its own tags on. The practice's name is a second tag
(``practice:<name>``), so one Prefect server can tell several practices' runs apart.

The tags are for flow runs only. A task run takes the tags of the context it starts in, and
Prefect asks its server for a slot of every tag-based concurrency limit named by a task run's
tags before the task starts (a "no such limit" answer is cached for 5 seconds): so each flow
body runs its tasks in ``untagged_tasks``, as a deployment's run already does (its process has
no tags context). At a local server busy writing the run's events, that check alone held a
12-second sync for 2.4 seconds (bench/README.md, "The fourth round").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import tags
from prefect.context import TagsContext
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


@contextmanager
def untagged_tasks() -> Iterator[None]:
    """Task runs started inside carry no tags, whatever tags the flow run carries."""
    with TagsContext(current_tags=set()):
        yield
