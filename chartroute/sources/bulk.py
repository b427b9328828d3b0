"""Bulk Data ``$export`` as a source: kick off, poll, download, then read the NDJSON folder.

For backfills and periodic full loads (athenahealth asks for exactly that). Planning does the
export: kick-off (system, Patient or Group level, ``_since`` the last export's
``transactionTime`` for an incremental one), polling that honours ``Retry-After``, the
manifest, and parallel downloads — each file through a temporary file and checkpointed in a
state file as it completes. If the process dies, the next plan resumes from the saved status
URL and fetches only the files still missing; the job is DELETEd on the server once every
file is safe on disk. The downloaded folder is then read exactly like ``NdjsonDirSource``
(the export *is* the NDJSON pipeline's input), plus the manifest's ``deleted`` files.

The cursor is the export's ``transactionTime``: the sync stores it only after every file of
the export is committed, so an export whose ingestion failed is simply exported again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from chartroute.config.ehr import BlockLoader, BulkSettings, Ehr, VendorProfile
from chartroute.fhir.extract import RULE_RESOURCE_TYPES
from chartroute.fhirclient.connect import connect
from chartroute.fhirclient.errors import Fatal, Temporary
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.retry import parse_retry_after
from chartroute.sources.base import Partition, SourceRecord
from chartroute.sources.ndjson_dir import DEFAULT_PARTITION_BYTES, NdjsonDirSource
from chartroute.store.engine import home
from chartroute.store.private_files import private_dir

log = logging.getLogger("chartroute.sources.bulk")

CURSOR = "export"
EMPTY = "@empty"
DELETED_SUFFIX = "@deleted"
#: Consecutive server errors on one status URL before the export is started again.
MAX_POLL_FAILURES = 3


class BulkExportSource:
    """Reads the rule resource types through a Bulk Data export."""

    def __init__(
        self,
        http: FhirHttp,
        profile: VendorProfile,
        settings: BulkSettings,
        *,
        work_dir: Path | None = None,
        partition_bytes: int = DEFAULT_PARTITION_BYTES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.http = http
        self.profile = profile
        self.settings = settings
        target = f"{settings.level}/{settings.group_id}" if settings.group_id else settings.level
        self.name = f"bulk:{http.base_url}:{target}"
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:12]
        self.work_dir = Path(work_dir or settings.work_dir or home() / "exports") / digest
        self.types = sorted(RULE_RESOURCE_TYPES - set(profile.unavailable_types))
        self.partition_bytes = partition_bytes
        self._clock = clock
        self._sleep = sleep
        self._state_lock = threading.Lock()

    @classmethod
    def from_config(
        cls, ehr: Ehr, blocks: BlockLoader | None = None, **kwargs: Any
    ) -> BulkExportSource:
        """The export source for a practice's ``ehr:`` settings (``kwargs`` go to ``connect``)."""
        return cls(connect(ehr, blocks, **kwargs), ehr.resolved_profile(), ehr.bulk)

    def close(self) -> None:
        self.http.close()

    # ---- planning: the export itself ---------------------------------------------------

    def partitions(self, cursors: Mapping[str, str] | None = None) -> list[Partition]:
        """Run (or resume) the export and slice what it downloaded."""
        stored = (cursors or {}).get(CURSOR, "")
        since = stored[3:] if stored.startswith("tx:") else None
        state = self.export(since)
        job_dir = self.work_dir / state["job"]
        fingerprint = f"tx:{state['manifest']['transactionTime']}"
        downloaded = NdjsonDirSource(job_dir, self.partition_bytes, require_records=False)
        parts = [
            Partition(f"{state['job']}/{p.id}", f"export {p.label}", fingerprint, CURSOR)
            for p in downloaded.partitions()
        ]
        for name in sorted(state["files"]):
            if state["files"][name]["kind"] == "deleted":
                pid = f"{state['job']}/{name}{DELETED_SUFFIX}"
                parts.append(Partition(pid, f"export {name}", fingerprint, CURSOR))
        if not parts:  # nothing changed: still a partition, so the cursor advances
            parts.append(
                Partition(f"{state['job']}/{EMPTY}", "export (no changes)", fingerprint, CURSOR)
            )
        return parts

    def export(self, since: str | None) -> dict[str, Any]:
        """Kick off or resume the export for ``since`` and bring it to a finished download."""
        private_dir(self.work_dir)  # downloads are whole resources: owner-only
        state_path = self._state_path(since)
        state = _load(state_path)
        if state is None or state.get("phase") == "done":
            state = self._kickoff(since, state_path, previous=state)
        else:
            log.info(
                "%s: resuming export from its saved status URL (phase %s)",
                self.name,
                state["phase"],
            )
        if state["phase"] == "polling":
            manifest = self._poll(state, state_path)
            if manifest is None:  # the server forgot the job (expired, restarted): start again
                state = self._kickoff(since, state_path, previous=state)
                manifest = self._poll(state, state_path)
                if manifest is None:
                    raise Fatal(f"{self.name}: the new export's status URL is not found")
            self._plan_files(state, manifest)
            state["phase"] = "downloading"
            self._save(state, state_path)
        if state["phase"] == "downloading":
            self._download(state, state_path)
            state["phase"] = "cleanup"
            self._save(state, state_path)
        if state["phase"] == "cleanup":
            self._delete_job(state["status_url"])
            state["phase"] = "done"
            self._save(state, state_path)
        return state

    def _delete_job(self, status_url: str) -> None:
        """Tell the server the files are safe here; a refusal only leaves them to expire."""
        try:
            self.http.request("DELETE", status_url, ok=(404, 410))
        except Fatal as exc:
            log.warning("%s: finished export not deleted (%s); it will expire", self.name, exc)

    def _state_path(self, since: str | None) -> Path:
        key = re.sub(r"[^0-9A-Za-z]", "", since) if since else "all"
        return self.work_dir / f"state-{key}.json"

    def _kickoff(
        self, since: str | None, state_path: Path, previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._clean(state_path, previous)
        if since and not self.profile.bulk_for_daily_sync:
            log.warning(
                "%s: the %s profile asks that $export be kept for initial or monthly loads; "
                "schedule the REST source for routine syncs",
                self.name,
                self.profile.name,
            )
        path = {
            "system": "$export",
            "patient": "Patient/$export",
            "group": f"Group/{self.settings.group_id}/$export",
        }[self.settings.level]
        params = {"_outputFormat": "application/fhir+ndjson"}
        if self.profile.bulk_type_filter:
            params["_type"] = ",".join(self.types)
        if since:
            params["_since"] = since
        response = self.http.request(
            "GET", self.http.url(path), params=params, headers={"Prefer": "respond-async"}
        )
        location = response.headers.get("Content-Location")
        if response.status_code != 202 or not location:
            raise Fatal(
                f"{self.name}: $export answered {response.status_code} without a status URL"
            )
        job = f"job-{uuid.uuid4().hex[:12]}"
        state: dict[str, Any] = {
            "since": since,
            "job": job,
            "status_url": self.http.follow(location),
            "phase": "polling",
            "poll_failures": 0,
            "files": {},
        }
        private_dir(self.work_dir / job)
        self._save(state, state_path)
        log.info("%s: export started (%s)", self.name, f"since {since}" if since else "everything")
        return state

    def _clean(self, state_path: Path, previous: dict[str, Any] | None) -> None:
        """Remove the finished export this one replaces, and older incremental exports."""
        if previous is not None:
            shutil.rmtree(self.work_dir / previous["job"], ignore_errors=True)
        current = state_path.name
        if current == "state-all.json":
            return
        for other in self.work_dir.glob("state-*.json"):
            if other.name == "state-all.json" or other.name >= current:
                continue
            stale = _load(other)
            if stale is not None:
                shutil.rmtree(self.work_dir / stale["job"], ignore_errors=True)
            other.unlink(missing_ok=True)

    def _poll(self, state: dict[str, Any], state_path: Path) -> dict[str, Any] | None:
        """Wait for the manifest; None when the status URL no longer exists."""
        deadline = self._clock() + self.settings.max_wait_minutes * 60
        interval = self.settings.poll_seconds
        while True:
            try:
                response = self.http.request(
                    "GET", state["status_url"], ok=(202,), headers={"Accept": "application/json"}
                )
            except Fatal as exc:
                if exc.status in (404, 410):
                    return None
                raise
            except Temporary as exc:
                if exc.status is not None and exc.status >= 500:
                    state["poll_failures"] = int(state.get("poll_failures", 0)) + 1
                    if state["poll_failures"] >= MAX_POLL_FAILURES:
                        state["phase"] = "done"  # give up on this job; the next plan starts anew
                    self._save(state, state_path)
                raise
            if response.status_code == 200:
                manifest = response.json()
                if not isinstance(manifest, dict) or "transactionTime" not in manifest:
                    raise Fatal(f"{self.name}: the export manifest has no transactionTime")
                return manifest
            wait = parse_retry_after(response.headers.get("Retry-After"))
            wait = min(wait if wait is not None else interval, self.profile.retry_after_cap_seconds)
            if self._clock() + wait > deadline:
                raise Temporary(
                    f"{self.name}: export still running after "
                    f"{self.settings.max_wait_minutes:.0f} min; the next attempt resumes it"
                )
            log.info(
                "%s: export in progress (%s); next poll in %.0f s",
                self.name,
                response.headers.get("X-Progress", "no progress reported")[:60],
                wait,
            )
            self._sleep(wait)

    def _plan_files(self, state: dict[str, Any], manifest: dict[str, Any]) -> None:
        """Name every file to download; types the rules do not read are never fetched."""
        state["manifest"] = {
            "transactionTime": manifest["transactionTime"],
            "requiresAccessToken": bool(manifest.get("requiresAccessToken", True)),
        }
        skipped = 0
        files: dict[str, dict[str, Any]] = {}
        for kind, entries in (
            ("output", manifest.get("output")),
            ("deleted", manifest.get("deleted")),
            ("error", manifest.get("error")),
        ):
            for i, item in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                    raise Fatal(f"{self.name}: manifest {kind}[{i}] has no url")
                rtype = str(item.get("type", ""))
                if kind == "output":
                    if rtype not in self.types:
                        skipped += 1
                        continue
                    name = f"{rtype}.{i}.ndjson"
                else:
                    name = f"{kind}.{i}.ndjson"
                files[name] = {"url": item["url"], "kind": kind, "done": False}
        state["files"] = files
        if skipped:
            log.info(
                "%s: %d manifest files of types the rules do not read were not downloaded",
                self.name,
                skipped,
            )

    def _download(self, state: dict[str, Any], state_path: Path) -> None:
        job_dir = self.work_dir / state["job"]
        private_dir(job_dir)
        authorized = bool(state["manifest"]["requiresAccessToken"])
        pending = [n for n, f in sorted(state["files"].items()) if not f["done"]]
        if not pending:
            return
        failures: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=self.http.limiter.concurrency) as pool:
            futures = {}
            for name in pending:
                url = state["files"][name]["url"]
                url = self.http.follow(url) if authorized else url
                futures[
                    pool.submit(self.http.download, url, job_dir / name, authorized=authorized)
                ] = name
            for future in as_completed(futures):
                name = futures[future]
                try:
                    size = future.result()
                except BaseException as exc:
                    failures.append(exc)
                    continue
                with self._state_lock:
                    state["files"][name].update(done=True, bytes=size)
                    self._save(state, state_path)  # checkpoint: this file is never fetched again
        if failures:
            raise failures[0]
        errors = sum(
            _count_lines(job_dir / n) for n, f in state["files"].items() if f["kind"] == "error"
        )
        if errors:
            log.warning("%s: the export reported %d OperationOutcome errors", self.name, errors)

    def _save(self, state: dict[str, Any], path: Path) -> None:
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))
        partial.replace(path)

    # ---- reading -----------------------------------------------------------------------

    def read(self, partition: Partition) -> Iterator[SourceRecord]:
        """The records of one downloaded slice (or the deletions of a ``deleted`` file)."""
        job, _, inner = partition.id.partition("/")
        job_dir = self.work_dir / job
        if inner == EMPTY:
            return
        if inner.endswith(DELETED_SUFFIX):
            yield from _read_deleted(job_dir / inner[: -len(DELETED_SUFFIX)])
            return
        folder = NdjsonDirSource(job_dir, self.partition_bytes, require_records=False)
        for record in folder.read(
            Partition(inner, partition.label, partition.fingerprint, CURSOR)
        ):  # the server's base: an absolute reference elsewhere is not ours
            yield replace(record, base=self.http.base_url)


def _load(path: Path) -> dict[str, Any] | None:
    try:
        state = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError:
        log.warning("%s is not readable; starting a new export", path)
        return None
    return state if isinstance(state, dict) and "job" in state else None


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    except FileNotFoundError:
        return 0


def _read_deleted(path: Path) -> Iterator[SourceRecord]:
    """Deletions listed as Bundles whose entries are ``DELETE Type/id`` requests."""
    with path.open("rb") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                bundle = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("%s:%d is not JSON; skipped", path.name, line_no)
                continue
            entries = bundle.get("entry") if isinstance(bundle, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                request = entry.get("request") if isinstance(entry, dict) else None
                url = request.get("url") if isinstance(request, dict) else None
                if not isinstance(url, str):
                    continue
                parts = [p for p in url.split("?", 1)[0].split("/") if p]
                if len(parts) >= 2 and parts[-2] in RULE_RESOURCE_TYPES:
                    yield SourceRecord(
                        location=f"{path.name}:{line_no}", deleted=f"{parts[-2]}/{parts[-1]}"
                    )
