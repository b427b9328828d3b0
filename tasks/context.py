"""Open the engine and config a task needs from the identifiers it was given.

Tasks take a source spec, a config pin and identifiers — never resources or the config itself —
so nothing a task receives or returns puts chart data into Prefect's database.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from chartroute.config import PracticeConfig
from chartroute.pinned_config import PinnedConfig, pinned_config
from chartroute.store.engine import database_url, make_engine


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """One engine (and connection pool) per database for the life of the worker process."""
    return make_engine(url)


def engine() -> Engine:
    return engine_for(database_url())


def config(pin: PinnedConfig) -> PracticeConfig:
    """The run's config, parsed once per process; ``ConfigError`` if the file changed since the
    run pinned it (a ``ConfigError`` is never retried)."""
    return pinned_config(pin)
