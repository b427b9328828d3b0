"""Served flow runs forked from a warm process (chartroute/deployments/warm_runs.py): the
runner's child process comes from the fork server, with its preloaded modules, and the flow
it runs is handed over by reference to its module."""

from __future__ import annotations

import copyreg
import multiprocessing
import os
import sys
from collections.abc import Iterator
from typing import Any

import cloudpickle
import pytest
from prefect import Flow, flow, flow_engine

from chartroute.deployments import warm_runs
from chartroute.deployments.catalog import DEPLOYMENTS


@pytest.fixture
def restored() -> Iterator[None]:
    """``use_fork_server`` changes what Prefect's engine and pickling see: undone after."""
    yield
    flow_engine.multiprocessing = multiprocessing  # type: ignore[attr-defined]
    copyreg.dispatch_table.pop(Flow, None)


def report_start(answers: Any) -> None:
    """A child's first act: whether the preloaded module was already there, and its parent."""
    answers.put(("wave" in sys.modules, os.getppid()))


@pytest.mark.integration
def test_a_run_process_is_forked_from_the_fork_server_with_its_imports(restored: None) -> None:
    assert "wave" not in sys.modules  # a module nothing here imports
    assert warm_runs.use_fork_server(["wave"])
    context = flow_engine.multiprocessing.get_context("spawn")  # as Prefect asks
    assert context.get_start_method() == "forkserver"
    answers = context.SimpleQueue()
    child = context.Process(target=report_start, args=(answers,))
    child.start()
    child.join(60)
    preloaded, parent = answers.get()
    assert child.exitcode == 0 and preloaded
    assert parent != os.getpid()  # the fork server's child, not this process's


@pytest.mark.parametrize("fork", ["1", "0"])
def test_every_served_flow_is_handed_to_its_run_by_reference(
    fork: str, restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copied by value, the sync flow reached the lease tasks' lock and could not be
    pickled at all (the first served run crashed before it started), forked or spawned."""
    monkeypatch.setenv(warm_runs.FORK_SETTING, fork)
    monkeypatch.setattr(warm_runs, "use_fork_server", lambda: True)  # not started here
    assert warm_runs.prepare_runs() is (fork == "1")
    for spec in DEPLOYMENTS:
        data = cloudpickle.dumps(spec.flow)
        assert len(data) < 200 and cloudpickle.loads(data) is spec.flow


def test_a_flow_its_module_does_not_name_is_still_copied(restored: None) -> None:
    @flow(name="made-here")
    def made_here() -> int:
        return 1

    copyreg.pickle(Flow, warm_runs._reduce_flow)
    copy = cloudpickle.loads(cloudpickle.dumps(made_here))
    assert copy is not made_here and copy.name == "made-here" and copy.fn() == 1


def test_flow_at_refuses_what_is_not_a_flow() -> None:
    with pytest.raises(TypeError, match="not a flow"):
        warm_runs.flow_at("chartroute.deployments.warm_runs", "PRELOAD")


@pytest.mark.parametrize(
    ("value", "wanted"), [(None, True), ("1", True), ("0", False), (" Off", False)]
)
def test_the_fork_server_can_be_turned_off(
    value: str | None, wanted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv(warm_runs.FORK_SETTING, raising=False)
    else:
        monkeypatch.setenv(warm_runs.FORK_SETTING, value)
    assert warm_runs.fork_server_wanted() is wanted
