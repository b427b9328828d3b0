"""Open a task's source with its practice's EHR credentials.

A task receives a source spec and a config path, never credentials. The source for a spec is
kept for the life of the worker process, so the tasks of one run share one connection pool
and one cached access token instead of authenticating once per partition; editing the config
file opens a new one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chartroute.config import load_config
from chartroute.sources import Source, open_source
from chartroute.tasks.secrets import prefect_secret


def source_for(spec: str, config_path: str | None = None) -> Source:
    """The source a spec names, with ``config_path``'s ``ehr:`` settings for URLs."""
    stamp = Path(config_path).stat().st_mtime_ns if config_path else 0
    return _cached_source(spec, config_path, stamp)


@lru_cache(maxsize=8)
def _cached_source(spec: str, config_path: str | None, _stamp: int) -> Source:
    config = load_config(config_path) if config_path else None
    return open_source(spec, config, prefect_secret)
