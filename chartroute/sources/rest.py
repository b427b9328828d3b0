"""An EHR's FHIR R4 REST API as a source: one partition per resource type the rules read.

Incremental by design. Each type has a cursor: the server's clock when a sync planned its
read, less an overlap (``ehr.cursor_overlap_seconds``) for writes still committing while we
read. A partition searches ``_lastUpdated=ge<stored cursor>`` and follows ``next`` links; its
fingerprint is the new cursor, which the sync stores only after the partition's data is
committed — so a crash re-reads, it never skips. ``ge`` re-reads the boundary instant on
purpose: records are deduplicated by id and version within a read, and the store ignores a
version it already holds, so a re-read costs a lookup and changes nothing.

Planning asks each type whether anything changed (``_summary=count``) and gives an unchanged
type its old fingerprint back, so the sync skips it without a task. Types whose server cannot
search ``_lastUpdated`` (per the vendor profile or the CapabilityStatement) are re-read over a
date window on their own date instead. Deleted resources are found through
``[type]/_history?_since`` where the vendor supports it; ``entered-in-error`` resources arrive
as ordinary updates and the rules ignore them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from chartroute.config.ehr import BlockLoader, Ehr, VendorProfile
from chartroute.fhir.dates import parse_fhir_datetime
from chartroute.fhir.extract import RULE_RESOURCE_TYPES, is_fhir_id
from chartroute.fhirclient.capability import Capability, fetch_capability
from chartroute.fhirclient.connect import connect
from chartroute.fhirclient.errors import Fatal
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.search import Page, iter_pages
from chartroute.sources.base import Partition, SourceRecord

log = logging.getLogger("chartroute.sources.rest")

LAST_UPDATED = "lastUpdated"
WINDOW = "window"


def format_cursor(when: datetime) -> str:
    """A FHIR instant with milliseconds, rounded down (a cursor must never be late)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FhirRestSource:
    """Reads the rule resource types from a FHIR server, incrementally."""

    def __init__(
        self,
        http: FhirHttp,
        profile: VendorProfile,
        *,
        overlap_seconds: float = 60.0,
        window_days: int = 30,
    ):
        self.http = http
        self.profile = profile
        self.overlap = timedelta(seconds=overlap_seconds)
        self.window = timedelta(days=window_days)
        self.name = f"rest:{http.base_url}"
        self.types = sorted(RULE_RESOURCE_TYPES - set(profile.unavailable_types))
        self._capability: Capability | None = None

    @classmethod
    def from_config(
        cls, ehr: Ehr, blocks: BlockLoader | None = None, **kwargs: Any
    ) -> FhirRestSource:
        """The source for a practice's ``ehr:`` settings (``kwargs`` go to ``connect``)."""
        return cls(
            connect(ehr, blocks, **kwargs),
            ehr.resolved_profile(),
            overlap_seconds=ehr.cursor_overlap_seconds,
            window_days=ehr.date_window_days,
        )

    def close(self) -> None:
        self.http.close()

    def capability(self) -> Capability:
        """The server's CapabilityStatement, read once; empty when the server has none."""
        if self._capability is None:
            try:
                self._capability = fetch_capability(self.http)
            except Fatal as exc:
                log.warning(
                    "%s: no usable CapabilityStatement (%s); using the vendor profile only",
                    self.name,
                    exc,
                )
                self._capability = Capability()
        return self._capability

    def mode(self, resource_type: str) -> str:
        """``lastUpdated`` when the type can be searched by it here, else ``window``."""
        supported = self.capability().supports_search(resource_type, "_lastUpdated")
        if self.profile.searches_last_updated(resource_type, supported):
            return LAST_UPDATED
        return WINDOW

    # ---- planning ----------------------------------------------------------------------

    def partitions(self, cursors: Mapping[str, str] | None = None) -> list[Partition]:
        """A partition per type; an unchanged type keeps its stored fingerprint (and is skipped)."""
        stored = dict(cursors or {})
        return [self._plan(rtype, stored.get(rtype)) for rtype in self.types]

    def _plan(self, rtype: str, stored: str | None) -> Partition:
        mode = self.mode(rtype)
        previous = _cursor_time(stored, mode)
        probe = self._probe(rtype, mode, previous)
        now = probe.server_time() or datetime.now(UTC)
        if mode == LAST_UPDATED:
            if previous is not None and _unchanged(probe):
                assert stored is not None
                return Partition(
                    _pid(rtype, mode, since=previous), f"{rtype} unchanged", stored, rtype
                )
            cursor = format_cursor(now - self.overlap)
            if previous is not None and cursor < previous:
                cursor = previous  # the server's clock (to the second) is behind it: never go back
            label = f"{rtype} changed since {previous}" if previous else f"{rtype} (all)"
            pid = _pid(rtype, mode, since=previous)
            return Partition(pid, label, f"lu:{cursor}", rtype, changed=True)
        start = format_cursor(now - self.window)
        fingerprint = f"win:{format_cursor(now - self.overlap)}"
        deleted_since = previous if self.profile.history_deletes else None
        pid = _pid(rtype, mode, since=start, deleted_since=deleted_since)
        label = f"{rtype} dated since {start[:10]} (window)"
        return Partition(pid, label, fingerprint, rtype, changed=True)

    def _probe(self, rtype: str, mode: str, previous: str | None) -> Page:
        """One small request: has the type changed since ``previous``, and what time is it?"""
        count = {"_summary": "count"} if self.profile.summary_count else {"_count": "1"}
        if mode == LAST_UPDATED and previous is not None and self.profile.history_deletes:
            url, params = self.http.url(f"{rtype}/_history"), {"_since": previous, "_count": "1"}
        elif mode == LAST_UPDATED and previous is not None:
            url, params = self.http.url(rtype), {"_lastUpdated": f"ge{previous}", **count}
        else:
            url, params = self.http.url(rtype), dict(count)
        return next(iter_pages(self.http, url, params))

    # ---- reading -----------------------------------------------------------------------

    def read(self, partition: Partition) -> Iterator[SourceRecord]:
        """Every resource of the partition's search, then the deletions since its cursor."""
        rtype, _, query = partition.id.partition("?")
        spec = dict(parse_qsl(query))
        mode = spec.get("mode", LAST_UPDATED)
        params = {"_count": str(self.profile.page_size)}
        if self.profile.sort:
            params["_sort"] = self.profile.sort
        since = spec.get("since")
        if mode == LAST_UPDATED and since:
            params["_lastUpdated"] = f"ge{since}"
        elif mode == WINDOW and since:
            params[self.profile.date_params.get(rtype, "date")] = f"ge{since}"
        yield from self._search(rtype, params)
        deleted_since = since if mode == LAST_UPDATED else spec.get("deleted_since")
        if deleted_since and self.profile.history_deletes:
            yield from self._deletions(rtype, deleted_since)

    def _search(self, rtype: str, params: dict[str, str]) -> Iterator[SourceRecord]:
        seen: set[tuple[str, str]] = set()
        outcomes = 0
        for page in iter_pages(self.http, self.http.url(rtype), params):
            for i, entry in enumerate(page.entries):
                resource = entry.get("resource")
                search = entry.get("search")
                entry_mode = search.get("mode") if isinstance(search, dict) else None
                if (
                    isinstance(resource, dict)
                    and resource.get("resourceType") == "OperationOutcome"
                ):
                    outcomes += 1
                    continue
                if entry_mode not in (None, "match"):
                    continue
                location = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
                if not isinstance(resource, dict) or not is_fhir_id(resource.get("id")):
                    location = None  # a bad id may be patient data: not in a quarantine key
                location = location or f"{page.url}#entry[{i}]"
                if isinstance(resource, dict):
                    version = _version_of(resource)
                    ident = (str(resource.get("id")), version)
                    if version and ident in seen:
                        continue  # a page boundary that moved while we paged
                    seen.add(ident)
                yield SourceRecord(
                    location=location,
                    decoded=resource,
                    base=self.http.base_url,
                    expected_type=rtype,
                )
        if outcomes:
            log.warning(
                "%s %s: the server added %d OperationOutcome entries (warnings)",
                self.name,
                rtype,
                outcomes,
            )

    def _deletions(self, rtype: str, since: str) -> Iterator[SourceRecord]:
        """Keys whose newest history entry since ``since`` is a DELETE."""
        newest: dict[str, str] = {}
        params = {"_since": since, "_count": str(self.profile.page_size)}
        for page in iter_pages(self.http, self.http.url(f"{rtype}/_history"), params):
            for entry in page.entries:
                request = entry.get("request")
                method = request.get("method") if isinstance(request, dict) else None
                rid = _history_id(entry, rtype)
                if rid is not None and rid not in newest:  # history lists newest first
                    newest[rid] = str(method or "PUT").upper()
        for rid in sorted(newest):
            if newest[rid] == "DELETE":
                yield SourceRecord(
                    location=f"{self.http.url(rtype)}/{rid}/_history", deleted=f"{rtype}/{rid}"
                )


def _pid(rtype: str, mode: str, **values: str | None) -> str:
    query = {"mode": mode, **{k: v for k, v in values.items() if v}}
    return f"{rtype}?{urlencode(query)}"


def _cursor_time(stored: str | None, mode: str) -> str | None:
    """The instant of a stored cursor of this mode; None when absent or of the other mode."""
    if not stored:
        return None
    prefix, _, value = stored.partition(":")
    if (prefix == "lu") != (mode == LAST_UPDATED) or prefix not in ("lu", "win"):
        return None
    try:
        parse_fhir_datetime(value)
    except ValueError:
        return None
    return value


def _unchanged(probe: Page) -> bool:
    """True when the probe found nothing (a count of 0, or no entries on a one-row page)."""
    if probe.total is not None:
        return probe.total == 0
    return not probe.entries


def _version_of(resource: dict[str, Any]) -> str:
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return ""
    value = meta.get("versionId") or meta.get("lastUpdated")
    return value if isinstance(value, str) else ""


def _history_id(entry: dict[str, Any], rtype: str) -> str | None:
    request = entry.get("request")
    url = request.get("url") if isinstance(request, dict) else None
    if isinstance(url, str):
        parts = [p for p in url.split("?", 1)[0].split("/") if p]
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        if len(parts) >= 2 and parts[-2] == rtype:
            return parts[-1]
    resource = entry.get("resource")
    if isinstance(resource, dict) and isinstance(resource.get("id"), str):
        return str(resource["id"])
    full = entry.get("fullUrl")
    if isinstance(full, str) and f"/{rtype}/" in full:
        return full.rsplit("/", 1)[-1]
    return None
