"""Faults between chartroute and the EHR: the sync retries through them to the same result.

A proxy on 127.0.0.1 sits between the client and sekmet-fhir (whose base URL is the proxy's,
so its paging and status links lead back through it) and injects 429s with Retry-After, 5xx,
stalls past the client's timeout, and connections dropped halfway through a body.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from chartroute.fhirclient import Temporary
from chartroute.fhirclient.auth import SmartBackendAuth
from chartroute.fhirclient.retry import RetryPolicy
from chartroute.generate import GenerationSummary
from chartroute.sources import NdjsonDirSource
from chartroute.sources.bulk import BulkExportSource
from chartroute.sources.rest import FhirRestSource
from tests.connector.conftest import classify_time, ehr_settings, practice_config
from tests.connector.faultproxy import Fault, FaultProxy
from tests.connector.pipeline import run_sync, work_items
from tests.connector.sekmet import SekmetServer, free_port

pytestmark = pytest.mark.integration

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.05, max_delay=0.5, retry_after_cap=5)


@pytest.fixture
def proxied(
    sekmet: Callable[..., SekmetServer],
    proxy_factory: Callable[[str, int], FaultProxy],
    practice_resources: list[dict[str, Any]],
) -> Callable[..., tuple[SekmetServer, FaultProxy]]:
    """A loaded server whose clients go through a fault proxy."""

    def start(**server_kwargs: Any) -> tuple[SekmetServer, FaultProxy]:
        proxy_port, server_port = free_port(), free_port()
        server = sekmet(
            port=server_port, base_url=f"http://127.0.0.1:{proxy_port}", **server_kwargs
        )
        server.load(practice_resources)
        proxy = proxy_factory(f"http://127.0.0.1:{server_port}", proxy_port)
        return server, proxy

    return start


def reference_items(
    practice: GenerationSummary, config: Any, as_of: Any, db_factory: Callable[[str], Engine]
) -> list[tuple[Any, ...]]:
    engine = db_factory("ndjson")
    run_sync(engine, NdjsonDirSource(practice.out_dir), config, as_of)
    return work_items(engine)


def test_sync_completes_through_429_500_timeouts_and_dropped_connections(
    proxied: Callable[..., tuple[SekmetServer, FaultProxy]],
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server, proxy = proxied()
    profile = {"requests_per_second": 200, "page_size": 20, "history_deletes": True}
    ehr = ehr_settings(server.base_url, key_file, tmp_path, profile=profile, timeout_seconds=1.0)
    config = practice_config(practice, ehr)
    assert config.ehr is not None
    faults = [
        proxy.add(Fault("status", "/auth/token", status=503)),
        proxy.add(Fault("status", "/fhir/Encounter?", status=429, retry_after="1")),
        proxy.add(Fault("status", "/fhir/DocumentReference?", status=500, times=2)),
        proxy.add(Fault("stall", "/fhir/ServiceRequest?", stall_seconds=2.5)),
        proxy.add(Fault("drop", "_offset=40", method="GET")),
        proxy.add(Fault("status", "/fhir/Condition?", status=408)),
    ]
    source = FhirRestSource.from_config(config.ehr, retry=FAST_RETRY)
    as_of = classify_time()
    engine = db_factory("rest")
    started = time.monotonic()
    outcome = run_sync(engine, source, config, as_of)
    assert time.monotonic() - started < 60
    assert [f.fired for f in faults] == [f.times for f in faults]
    assert outcome.ingest.quarantined == 0
    assert work_items(engine) == reference_items(practice, config, as_of, db_factory)
    assert len(proxy.requests("/fhir/DocumentReference?")) >= 3  # two 500s, then answered
    dropped = [s for s in proxy.seen if s.fault == "drop"]
    assert dropped and "_offset=40" in dropped[0].target


def test_retry_after_beyond_the_cap_fails_fast_and_a_rerun_completes(
    proxied: Callable[..., tuple[SekmetServer, FaultProxy]],
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server, proxy = proxied()
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path))
    assert config.ehr is not None
    proxy.add(Fault("status", "/fhir/Claim?", status=429, retry_after="7200"))
    source = FhirRestSource.from_config(config.ehr, retry=FAST_RETRY)
    engine = db_factory("rest")
    as_of = classify_time()
    started = time.monotonic()
    with pytest.raises(Temporary) as failure:
        run_sync(engine, source, config, as_of)
    assert failure.value.status == 429 and failure.value.retry_after == 7200
    assert time.monotonic() - started < 10
    rerun = run_sync(engine, source, config, as_of)  # what the task's own retry does
    assert rerun.ingest.quarantined == 0
    assert work_items(engine) == reference_items(practice, config, as_of, db_factory)


def test_a_token_expiring_mid_sync_is_renewed_before_it_lapses(
    proxied: Callable[..., tuple[SekmetServer, FaultProxy]],
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server, proxy = proxied(token_lifetime=3)
    profile = {"requests_per_second": 5, "history_deletes": True}
    config = practice_config(
        practice, ehr_settings(server.base_url, key_file, tmp_path, profile=profile)
    )
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr, retry=FAST_RETRY)
    engine = db_factory("rest")
    as_of = classify_time()
    started = time.monotonic()
    run_sync(engine, source, config, as_of)
    assert time.monotonic() - started > 3  # the sync outlived its first token
    auth = source.http.auth
    assert isinstance(auth, SmartBackendAuth) and auth.tokens_fetched >= 2
    assert not [s for s in proxy.seen if s.status == 401]
    assert work_items(engine) == reference_items(practice, config, as_of, db_factory)


def test_a_token_the_server_rejects_is_renewed_once(
    proxied: Callable[..., tuple[SekmetServer, FaultProxy]],
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server, proxy = proxied(token_lifetime=2)
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path))
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr, retry=FAST_RETRY)
    auth = source.http.auth
    assert isinstance(auth, SmartBackendAuth)
    auth.authorization()
    auth._refresh_at = float("inf")  # clocks apart: we believe the token is still good
    time.sleep(2.5)
    engine = db_factory("rest")
    as_of = classify_time()
    run_sync(engine, source, config, as_of)
    rejected = [i for i, s in enumerate(proxy.seen) if s.status == 401]
    assert rejected and proxy.seen[rejected[0]].target.endswith("_summary=count")
    for i in rejected:  # each rejection is followed by the same request, answered
        retry = next(s for s in proxy.seen[i + 1 :] if s.target == proxy.seen[i].target)
        assert retry.status == 200
    assert auth.tokens_fetched >= 1 + len(rejected)
    assert work_items(engine) == reference_items(practice, config, as_of, db_factory)


def test_an_interrupted_export_resumes_from_its_saved_status_url(
    proxied: Callable[..., tuple[SekmetServer, FaultProxy]],
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server, proxy = proxied()
    auth = {"scopes": ["system/*.rs", "system/*.d"]}
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path, auth=auth))
    assert config.ehr is not None
    proxy.add(Fault("drop", "/Encounter.ndjson", method="GET", times=FAST_RETRY.attempts))
    first = BulkExportSource.from_config(config.ehr, retry=FAST_RETRY)
    with pytest.raises(Temporary):
        first.partitions()
    state = orjson.loads((first.work_dir / "state-all.json").read_bytes())
    assert state["phase"] == "downloading"
    done = sorted(n for n, f in state["files"].items() if f["done"])
    missing = sorted(n for n, f in state["files"].items() if not f["done"])
    assert len(missing) == 1 and len(done) >= 8
    downloads_before = len(proxy.requests("/bulk-files/"))

    resumed = BulkExportSource.from_config(config.ehr, retry=FAST_RETRY)  # a new process
    parts = resumed.partitions()
    assert len(proxy.requests("$export")) == 1  # not kicked off again
    fetched = [s.target for s in proxy.requests("/bulk-files/")[downloads_before:]]
    assert len(fetched) == 1 and fetched[0].endswith(missing[0].split(".")[0] + ".ndjson")
    assert len(proxy.requests("/bulk-status/", method="DELETE")) == 1
    assert (
        server.admin.get(
            state["status_url"].replace(server.base_url, server.direct_url)
        ).status_code
        == 404
    )
    assert {p.cursor_name for p in parts} == {"export"}

    engine = db_factory("bulk")
    as_of = classify_time()
    run_sync(engine, resumed, config, as_of)
    assert work_items(engine) == reference_items(practice, config, as_of, db_factory)
