"""One progress line per finished test file, in place of a screen of dots.

The whole suite runs for minutes; a line per file says where it is and what has failed so far,
and reads the same whether the files run one after another or spread over pytest-xdist workers
(the controller receives every worker's reports, so the lines come from there alone). A failing
test still shows its letter at once, so a failure is seen before its file ends.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

_WORSE = {"passed": 0, "skipped": 1, "failed": 2}


class FileProgress:
    """Counts the tests of each file still to finish and prints a line when a file is done."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.remaining: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        self.seconds: Counter[str] = Counter()
        self.test_outcome: dict[str, str] = {}
        self.collected = False

    def expect(self, nodeids: list[str]) -> None:
        if self.collected:
            return
        self.collected = True
        for nodeid in nodeids:
            self.remaining[_file_of(nodeid)] += 1

    def record(self, report: pytest.TestReport) -> None:
        path = _file_of(report.nodeid)
        self.seconds[path] += report.duration
        outcome = "failed" if report.failed else report.outcome
        earlier = self.test_outcome.get(report.nodeid, "passed")
        if _WORSE[outcome] > _WORSE[earlier]:
            self.test_outcome[report.nodeid] = outcome
        else:
            self.test_outcome.setdefault(report.nodeid, earlier)
        if report.when != "teardown":
            return
        self.outcomes[path][self.test_outcome.pop(report.nodeid)] += 1
        self.remaining[path] -= 1
        if self.remaining[path] == 0:
            self._print_line(path)

    def _print_line(self, path: str) -> None:
        counts = self.outcomes[path]
        names = ("passed", "failed", "skipped")
        parts = [f"{counts[name]} {name}" for name in names if counts[name]]
        reporter: Any = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        if reporter._tw.width_of_current_line:  # after a failure's letter
            reporter._tw.line()
        reporter.write_line(f"{path}  {', '.join(parts)}  ({self.seconds[path]:.1f} s)")


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _progress(config: pytest.Config) -> FileProgress | None:
    if _is_worker(config) or config.get_verbosity() > 0:
        return None
    progress: FileProgress | None = getattr(config, "_file_progress", None)
    if progress is None:
        progress = FileProgress(config)
        config._file_progress = progress  # type: ignore[attr-defined]
    return progress


def pytest_collection_finish(session: pytest.Session) -> None:
    progress = _progress(session.config)
    if progress is not None and not session.config.pluginmanager.has_plugin("dsession"):
        progress.expect([item.nodeid for item in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    progress = _progress(node.config)
    if progress is not None:
        progress.expect(ids)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = getattr(report, "_config", None) or _CONFIG.get("config")
    if config is None:
        return
    progress = _progress(config)
    if progress is not None and progress.collected:
        progress.record(report)


_CONFIG: dict[str, pytest.Config] = {}


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG["config"] = config


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """A passing test prints nothing of its own: its file's line counts it."""
    if _progress(config) is None or report.when != "call" or not report.passed:
        return None
    return "passed", "", "PASSED"
