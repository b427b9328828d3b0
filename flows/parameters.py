"""The parameter types the flows share: what the sync reads, and the practice file.

Flows take flat, typed parameters, each with a default where one makes sense: every one is a
field of the Prefect UI's run form and a ``prefect deployment run ... -p name=value``. Their
descriptions are the ``Args:`` of each flow's docstring, which is where Prefect reads them.

An empty path is refused by name before a run starts: read as a path it would mean "this
folder", and the run would fail later with an error about a directory. ``minLength`` in the
schema lets the Prefect server refuse an empty value in a run it is asked to create; the
validator gives a run that starts anyway (a scheduled one) a message saying what to set.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

#: The practice file a flow reads unless its deployment or caller names another.
DEFAULT_CONFIG = "config/practice.yaml"


def _named_source(value: str) -> str:
    if not value.strip():
        raise ValueError(
            "source is empty: give the folder of the EHR export, a FHIR base URL or "
            "bulk+<base URL> (a deployment takes it from CHARTROUTE_SOURCE when `prefect "
            "deploy` runs; `-p source=...` sets it for one run)"
        )
    return value


def _named_config(value: str) -> str:
    if not value.strip():
        raise ValueError(
            "config is empty: give the practice YAML file (`chartroute deployments render "
            "--config FILE` writes it into prefect.yaml; `-p config=...` sets it for one run)"
        )
    return value


#: What the sync or backfill reads: a folder of FHIR NDJSON/Bundles, a FHIR URL or bulk+URL.
SourceSpec = Annotated[
    str, AfterValidator(_named_source), Field(json_schema_extra={"minLength": 1})
]

#: The practice YAML file.
PracticeFile = Annotated[
    str, AfterValidator(_named_config), Field(json_schema_extra={"minLength": 1})
]


def check_day_range(start: date | None, end: date | None) -> None:
    """Refuse a range whose last day comes before its first, naming both parameters."""
    if start is not None and end is not None and end < start:
        raise ValueError(f"end {end} is before start {start}: the range runs from start to end")
