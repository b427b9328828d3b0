"""Open a task's source with its practice's EHR credentials.

A task receives a source spec and the run's config pin, never credentials. The source for a
spec is kept for the life of the worker process, so the tasks of one run share one connection
pool and one cached access token instead of authenticating once per partition; a run on an
edited config file opens a new one.
"""

from __future__ import annotations

from functools import lru_cache

from chartroute.pinned_config import PinnedConfig
from chartroute.sources import Source, open_source
from chartroute.tasks import context
from chartroute.tasks.secrets import prefect_secret


def source_for(spec: str, config: PinnedConfig) -> Source:
    """The source a spec names, with the run's ``ehr:`` settings for URLs."""
    context.config(config)  # refuse a run whose file changed, even when the source is cached
    return _cached_source(spec, config)


@lru_cache(maxsize=8)
def _cached_source(spec: str, config: PinnedConfig) -> Source:
    return open_source(spec, context.config(config), prefect_secret)
