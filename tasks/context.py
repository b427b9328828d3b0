"""Open the engine, source and config a task needs from the identifiers it was given.

Tasks take a source spec, a config path and identifiers — never resources — so nothing a task
receives or returns puts chart data into Prefect's database.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from chartroute.config import PracticeConfig, load_config
from chartroute.sources import Source, open_source
from chartroute.store.engine import database_url, make_engine


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """One engine (and connection pool) per database for the life of the worker process."""
    return make_engine(url)


def engine() -> Engine:
    return engine_for(database_url())


def source(spec: str) -> Source:
    return open_source(spec)


def config(path: str) -> PracticeConfig:
    return load_config(path)
