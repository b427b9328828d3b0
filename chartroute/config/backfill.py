"""The ``backfill`` section of the practice YAML: how a backfill spreads its partitions.

A backfill runs one Prefect task per partition of encounter start days. Threads suit one
machine (the work is mostly SQL and decoding); processes sidestep the GIL on a many-core host;
Dask spreads partitions over a cluster, either a local one started for the run or an existing
scheduler that workers on several hosts joined (docs/backfill.md). With more than one
process or host the store must be PostgreSQL: SQLite is one file on one machine.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from chartroute.config.base import StrictModel

TaskRunnerKind = Literal["threads", "processes", "dask"]


class BackfillSettings(StrictModel):
    """Where and how wide a backfill runs."""

    task_runner: TaskRunnerKind = Field(
        default="threads",
        description="threads (default), processes, or dask (a LocalCluster, or the scheduler "
        "at dask_address).",
    )
    workers: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Threads, processes or local Dask workers running partitions at once.",
    )
    dask_address: str | None = Field(
        default=None,
        description="An existing Dask scheduler, e.g. tcp://10.0.0.5:8786; unset: start a "
        "LocalCluster for the run (task_runner dask only).",
    )
    partition_days: int = Field(
        default=7,
        ge=1,
        le=366,
        description="Days of encounter start dates per partition: a week of a 50-clinician "
        "group is about 12,500 encounters, a task of tens of seconds.",
    )

    @model_validator(mode="after")
    def _address_needs_dask(self) -> BackfillSettings:
        if self.dask_address is not None and self.task_runner != "dask":
            raise ValueError("dask_address is only used with task_runner: dask")
        return self
