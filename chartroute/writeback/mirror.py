"""Mirror work items into the EHR as FHIR Tasks, from where the last mirror stopped.

Every work item changed since a stored point is written: an open item by *conditional create*
(``If-None-Exist: identifier=<system>|<work item id>``), so a retried or repeated run finds
the Task it made before instead of making a second one, then, if the Task on the server
differs in an element chartroute owns, by an update guarded with ``If-Match`` on the version
read, so a concurrent edit is re-read rather than overwritten blind. A closed item completes
its Task (an item never mirrored has no Task to complete). Progress is kept in the ``setting``
table after every batch, so a failed run resumes instead of starting over.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, and_, or_, select

from chartroute.config.ehr import WritebackSettings
from chartroute.config.models import PracticeConfig
from chartroute.counts import Counts
from chartroute.fhir.facts import EncounterFact, fact_from_json
from chartroute.fhirclient.errors import Fatal, Temporary
from chartroute.fhirclient.http import FhirHttp
from chartroute.store import runs
from chartroute.store.key_sets import key_in
from chartroute.store.schema import fact, work_item
from chartroute.writeback.fhir_task import build_fhir_task, differs, identifier_query

log = logging.getLogger("chartroute.writeback")

BATCH = 200
#: Items changed this long before the stored point are looked at again (a concurrent run's
#: transaction may commit after ours with an earlier timestamp); re-mirroring is a no-op.
OVERLAP = timedelta(seconds=60)
UPDATE_ATTEMPTS = 3


@dataclass
class WritebackCounts(Counts):
    """What one mirror run did (counts only)."""

    considered: int = 0
    created: int = 0
    updated: int = 0
    completed: int = 0
    unchanged: int = 0
    absent: int = 0
    mode: str = ""  # shadow: nothing written (see ``chartroute.sync.write_back``); or live


def state_name(base_url: str) -> str:
    """The ``setting`` row holding the mirror's progress for one EHR."""
    return f"writeback:{hashlib.sha256(base_url.encode()).hexdigest()[:16]}"


def mirror_work_items(
    engine: Engine, http: FhirHttp, config: PracticeConfig, batch_size: int = BATCH
) -> WritebackCounts:
    """Write every work item changed since the stored point to the EHR as a Task."""
    if config.ehr is None:
        raise ValueError("write-back needs an `ehr:` section in the practice config")
    settings = config.ehr.writeback
    name = state_name(http.base_url)
    with engine.connect() as conn:
        stored = runs.get_setting(conn, name)
    since = datetime.fromisoformat(stored) - OVERLAP if stored else None
    counts = WritebackCounts()
    after: tuple[datetime, str] | None = None
    while True:
        with engine.connect() as conn:
            rows = _changed_items(conn, since, after, batch_size)
            patients = _patients(conn, sorted({r["encounter"] for r in rows}))
        if not rows:
            break
        for row in rows:
            outcome = mirror_item(http, row, patients.get(row["encounter"]), config, settings)
            counts.considered += 1
            setattr(counts, outcome, getattr(counts, outcome) + 1)
        last = rows[-1]
        after = (last["updated_at"], last["id"])
        with engine.begin() as conn:
            runs.put_setting(conn, name, last["updated_at"].isoformat())
    return counts


def _changed_items(
    conn: Any, since: datetime | None, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """The next batch of items in (updated_at, id) order; only open ones on a first mirror."""
    stmt = select(work_item)
    if since is None:
        stmt = stmt.where(work_item.c.status == "open")
    else:
        stmt = stmt.where(work_item.c.updated_at >= since)
    if after is not None:
        stmt = stmt.where(
            or_(
                work_item.c.updated_at > after[0],
                and_(work_item.c.updated_at == after[0], work_item.c.id > after[1]),
            )
        )
    stmt = stmt.order_by(work_item.c.updated_at, work_item.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _patients(conn: Any, encounters: list[str]) -> dict[str, str]:
    """The Patient each encounter is for, from the stored Encounter facts."""
    out: dict[str, str] = {}
    for r in conn.execute(
        select(fact.c.key, fact.c.body).where(key_in(conn, fact.c.key, encounters))
    ):
        enc = fact_from_json(r.body)
        if isinstance(enc, EncounterFact) and enc.patient:
            out[r.key] = enc.patient
    return out


def mirror_item(
    http: FhirHttp,
    item: Mapping[str, Any],
    patient: str | None,
    config: PracticeConfig,
    settings: WritebackSettings,
) -> str:
    """Make the EHR's Task match one work item; returns which WritebackCounts field to bump."""
    ident = identifier_query(settings, item["id"])
    desired = build_fhir_task(item, patient=patient, config=config, settings=settings)
    if item["status"] != "open":
        existing = find_fhir_task(http, ident)
        if existing is None:
            return "absent"
        return "completed" if _update(http, existing, desired) else "unchanged"
    try:
        response = http.request(
            "POST",
            http.url("Task"),
            json=desired,
            headers={
                "If-None-Exist": urlencode({"identifier": ident}, safe=":/|"),
                "Prefer": "return=representation",
            },
        )
    except Fatal as exc:
        if exc.status != 412:  # 412: several Tasks already match; update the first
            raise
        response = None
    if response is not None and response.status_code == 201:
        return "created"
    existing = _resource(response) if response is not None else None
    if existing is None:
        existing = find_fhir_task(http, ident)
    if existing is None:
        raise Fatal(
            f"conditional create of the Task for {item['id']} matched a Task the search cannot find"
        )
    return "updated" if _update(http, existing, desired) else "unchanged"


def find_fhir_task(http: FhirHttp, ident: str) -> dict[str, Any] | None:
    """The Task with this identifier, if any (the first, when a server holds duplicates)."""
    bundle, _ = http.get_json(http.url("Task"), {"identifier": ident})
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    matches = [
        e["resource"]
        for e in entries or []
        if isinstance(e, dict)
        and isinstance(e.get("resource"), dict)
        and e["resource"].get("resourceType") == "Task"
    ]
    if len(matches) > 1:
        log.warning("%d Tasks share one work item identifier; updating the first", len(matches))
    return matches[0] if matches else None


def _resource(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("resourceType") == "Task" else None


def _update(http: FhirHttp, existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """PUT ``desired`` over ``existing`` if they differ, guarded by If-Match; True if written."""
    for _attempt in range(UPDATE_ATTEMPTS):
        if not differs(existing, desired):
            return False
        task_id = existing["id"]
        headers = {}
        meta = existing.get("meta")
        version = meta.get("versionId") if isinstance(meta, dict) else None
        if isinstance(version, str):
            headers["If-Match"] = f'W/"{version}"'
        try:
            http.request(
                "PUT", http.url(f"Task/{task_id}"), json={**desired, "id": task_id}, headers=headers
            )
            return True
        except Fatal as exc:
            if exc.status != 412:
                raise
        current, _ = http.get_json(http.url(f"Task/{task_id}"))  # changed under us: re-read
        if not isinstance(current, dict):
            break
        existing = current
    raise Temporary(f"Task/{existing.get('id')} kept changing while being updated")
