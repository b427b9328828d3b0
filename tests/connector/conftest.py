"""Fixtures for the connector tests: keys, a generated practice, sekmet-fhir servers, configs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from chartroute.config import PracticeConfig, load_config
from chartroute.config.ehr import Ehr
from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice
from chartroute.store.engine import make_engine
from tests.connector.faultproxy import FaultProxy
from tests.connector.keys import KeyPair, make_key
from tests.connector.sekmet import CLIENT_ID, SekmetServer, read_ndjson_dir

#: Fast enough for tests, still exercising the limiter.
TEST_PROFILE = {"requests_per_second": 200, "concurrency": 4, "history_deletes": True}


@pytest.fixture(scope="session")
def signing_keys() -> dict[str, KeyPair]:
    return {"rsa": make_key("rsa", "rsa-test-1"), "ec": make_key("ec", "ec-test-1")}


@pytest.fixture(scope="session")
def practice(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    """A small generated practice: 2 clinicians, 3 clinic days (108 encounters)."""
    profile = GeneratorProfile(providers=2, days=3, seed=1, patients_per_provider=20)
    return generate_practice(tmp_path_factory.mktemp("practice"), profile)


@pytest.fixture(scope="session")
def practice_resources(practice: GenerationSummary) -> list[dict[str, Any]]:
    return read_ndjson_dir(practice.out_dir)


@pytest.fixture
def key_file(tmp_path: Path, signing_keys: dict[str, KeyPair]) -> Path:
    """The RSA key as a private JWKS file, as a practice would keep it."""
    path = tmp_path / "chartroute-test.jwks"
    path.write_text(signing_keys["rsa"].private_jwks())
    return path


@pytest.fixture
def sekmet(
    tmp_path_factory: pytest.TempPathFactory, signing_keys: dict[str, KeyPair]
) -> Iterator[Callable[..., SekmetServer]]:
    """Start sekmet-fhir servers (simulator off unless asked); all are stopped after the test."""
    started: list[SekmetServer] = []

    def start(**kwargs: Any) -> SekmetServer:
        keys = [k.public_jwk for k in signing_keys.values()]
        server = SekmetServer(tmp_path_factory.mktemp("sekmet"), public_jwks=keys, **kwargs)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def loaded_server(
    sekmet: Callable[..., SekmetServer], practice_resources: list[dict[str, Any]]
) -> SekmetServer:
    """A server holding the generated practice."""
    server = sekmet()
    server.load(practice_resources)
    return server


@pytest.fixture
def proxy_factory() -> Iterator[Callable[[str, int], FaultProxy]]:
    proxies: list[FaultProxy] = []

    def start(upstream: str, port: int) -> FaultProxy:
        proxy = FaultProxy(upstream, port=port).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def ehr_settings(base_url: str, key_file: Path, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """The practice's ``ehr:`` section for a test server, SMART with the RSA key file."""
    settings: dict[str, Any] = {
        "base_url": base_url,
        "vendor": "generic",
        "profile": dict(TEST_PROFILE),
        "cursor_overlap_seconds": 0.5,
        "auth": {
            "kind": "smart-backend",
            "client_id": CLIENT_ID,
            "private_key_file": str(key_file),
        },
        "bulk": {"work_dir": str(tmp_path / "exports"), "poll_seconds": 0.5},
    }
    for name, value in extra.items():
        if isinstance(value, dict) and isinstance(settings.get(name), dict):
            settings[name] = {**settings[name], **value}
        else:
            settings[name] = value
    return settings


def practice_config(practice: GenerationSummary, ehr: dict[str, Any] | None) -> PracticeConfig:
    """The generated practice's config with an ``ehr:`` section."""
    config = load_config(practice.out_dir / "practice.yaml")
    return config.model_copy(update={"ehr": Ehr.model_validate(ehr) if ehr else None})


def write_practice_yaml(practice: GenerationSummary, ehr: dict[str, Any], path: Path) -> Path:
    """The generated practice.yaml plus ``ehr:``, as a file for the CLI and the flow."""
    data = yaml.safe_load((practice.out_dir / "practice.yaml").read_text())
    data["ehr"] = ehr
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def classify_time() -> datetime:
    """As-of for tests against a live server: after its lastUpdated stamps (which are now)."""
    return datetime.now(UTC) + timedelta(minutes=10)


@pytest.fixture
def db_factory(tmp_path: Path) -> Iterator[Callable[[str], Engine]]:
    engines: list[Engine] = []

    def make(name: str) -> Engine:
        engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
