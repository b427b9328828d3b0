"""``chartroute serve``'s flow runs forked from a warm process instead of started cold.

Prefect's runner starts each run of a served deployment in a new interpreter (a *spawn*
process), so every scheduled sync imported Prefect, chartroute, pandas and Great Expectations
again — about 3 s of an 8-s next-day sync at 100k encounters (bench/README.md) — before any of
the day's work. A *fork server* imports them once, when serve starts
(``warm_imports.py``), and each run is forked from it. A run still has a process of its own
(a crash or a leak ends with it; cancelling still kills it) and still receives its
environment from the runner; it starts with the imports done. The fork server itself is
started with no threads, as forking needs: importing those modules starts none.

The runner has no setting for the start method: ``prefect.flow_engine.run_flow_in_subprocess``
asks ``multiprocessing.get_context("spawn")``, and the runner calls that function through
``prefect.runner._starter_direct`` (whose docstring names the module as the place to
override). ``use_fork_server`` gives ``prefect.flow_engine`` a ``multiprocessing`` whose
``get_context`` answers with the fork server's context; the rest of Prefect's function —
the environment, the control channel, the pickled call — is unchanged.
"""

from __future__ import annotations

import copyreg
import importlib
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import pickle
import sys
from types import ModuleType
from typing import Any

from prefect import Flow

log = logging.getLogger(__name__)

#: Imported by the fork server before it forks any run.
PRELOAD = ["chartroute.deployments.warm_imports"]
#: Set to 0 (or false, no, off) to start each run in a new interpreter, as Prefect does.
FORK_SETTING = "CHARTROUTE_SERVE_FORK"


def fork_server_wanted() -> bool:
    """Whether serve should fork its runs warm (``CHARTROUTE_SERVE_FORK``, on by default)."""
    return os.environ.get(FORK_SETTING, "1").strip().lower() not in {"0", "false", "no", "off"}


class _ForkServerMultiprocessing(ModuleType):
    """``multiprocessing`` as ``prefect.flow_engine`` sees it: any context it asks for is the
    fork server's."""

    def __init__(self, context: multiprocessing.context.BaseContext):
        super().__init__("multiprocessing")
        self._context = context

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        return self._context

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


def flow_at(module: str, name: str) -> Flow[..., Any]:
    """The flow a module defines under ``name`` (what a forked run unpickles a flow to)."""
    found = getattr(importlib.import_module(module), name)
    if not isinstance(found, Flow):
        raise TypeError(f"{module}.{name} is not a flow")
    return found


def _reduce_flow(flow: Flow[..., Any]) -> str | tuple[Any, ...]:
    """Pickle a flow that its module defines by that name as a reference to it.

    The runner pickles the flow of each run to hand it to the child. A decorated flow's
    function is not what its module's name refers to (the ``Flow`` is), so cloudpickle would
    copy the function by value, with every global it reaches: the lease tasks' lock cannot
    be copied. The child imports the module instead, which the fork server already did. A
    flow defined anywhere else is pickled as before.
    """
    module, name = flow.fn.__module__, flow.fn.__name__
    if getattr(sys.modules.get(module), name, None) is flow:
        return (flow_at, (module, name))
    return flow.__reduce_ex__(pickle.DEFAULT_PROTOCOL)


def prepare_runs() -> bool:
    """Make served runs startable from the flows serve holds, forked warm unless
    ``CHARTROUTE_SERVE_FORK`` says not; whether they will be."""
    copyreg.pickle(Flow, _reduce_flow)  # spawned or forked, a run gets its flow pickled
    return fork_server_wanted() and use_fork_server()


def use_fork_server(preload: list[str] | None = None) -> bool:
    """Start the fork server now (its imports are paid at serve's start, not by the first
    run) and have Prefect fork served runs from it; False, and runs spawned as before, where
    the platform has no fork server (Windows)."""
    from prefect import flow_engine

    if "forkserver" not in multiprocessing.get_all_start_methods():
        log.warning("no fork server on this platform: each flow run imports everything anew")
        return False
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD if preload is None else preload)
    multiprocessing.forkserver.ensure_running()
    flow_engine.multiprocessing = _ForkServerMultiprocessing(context)  # type: ignore[attr-defined]
    return True
