"""One write-back run: mirror the changed work items into the EHR as FHIR Tasks, unless the
practice is in shadow mode."""

from __future__ import annotations

from sqlalchemy import Engine

from chartroute.config.models import PracticeConfig
from chartroute.config.secrets import BlockLoader
from chartroute.fhirclient.connect import connect
from chartroute.mode import acting_mode
from chartroute.vocabulary import Mode
from chartroute.writeback.mirror import WritebackCounts, mirror_work_items

__all__ = ["write_back"]


def write_back(
    engine: Engine, config: PracticeConfig, blocks: BlockLoader | None = None
) -> WritebackCounts:
    """Mirror the work items changed since the last mirror into the EHR as FHIR Tasks.

    In shadow mode nothing is written and the mirror's point stays where it was: the first
    live run mirrors the open items as they stand then (docs/go-live.md).
    """
    if config.ehr is None:
        raise ValueError("write-back needs an `ehr:` section in the practice config")
    with engine.begin() as conn:
        mode = acting_mode(conn, config)
    if mode is Mode.SHADOW:
        return WritebackCounts(mode=str(mode))
    http = connect(config.ehr, blocks)
    try:
        counts = mirror_work_items(engine, http, config)
    finally:
        http.close()
    counts.mode = str(mode)
    return counts
