"""Every message rendered for a generated practice, in every format, carries no PHI: none of
the practice's patient names, birth dates, diagnosis texts or chief complaints."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.policy import SMTP
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from chartroute.config import load_config
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.notify import render
from chartroute.notify.channels.base import Outgoing
from chartroute.notify.channels.smtp import build_email
from chartroute.notify.channels.webhook import body_of
from chartroute.notify.content import MessageContent
from chartroute.notify.deliver import deliver
from chartroute.store.schema import outbox_message
from tests.notify.conftest import ALWAYS_OPEN, run_sync


def _ndjson(path: Path) -> Iterator[dict[str, Any]]:
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                yield json.loads(line)


def _texts(concept: dict[str, Any] | None) -> list[str]:
    if not concept:
        return []
    found = [concept.get("text") or ""]
    found += [c.get("display") or "" for c in concept.get("coding") or []]
    return [t for t in found if t]


def phi_of(folder: Path) -> dict[str, set[str]]:
    """The practice's PHI strings, by kind, read back from the generated FHIR files."""
    names: set[str] = set()
    births: set[str] = set()
    clinical: set[str] = set()
    for patient in _ndjson(folder / "Patient.ndjson"):
        for name in patient.get("name") or []:
            names.update(name.get("given") or [])
            if name.get("family"):
                names.add(name["family"])
        if patient.get("birthDate"):
            births.add(patient["birthDate"])
    for condition in _ndjson(folder / "Condition.ndjson"):
        clinical.update(_texts(condition.get("code")))
    for encounter in _ndjson(folder / "Encounter.ndjson"):
        for reason in encounter.get("reasonCode") or []:
            clinical.update(_texts(reason))
    return {"names": names, "birth dates": births, "diagnoses and complaints": clinical}


@lru_cache(maxsize=16)
def _pattern(values: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def leaks(text: str, phi: dict[str, set[str]]) -> list[str]:
    """Every PHI string found in ``text`` (whole words, any case)."""
    found = []
    for kind, values in phi.items():
        found += [f"{kind}: {m.group(0)}" for m in _pattern(frozenset(values)).finditer(text)]
    return found


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    folder = tmp_path_factory.mktemp("practice")
    summary = generate_practice(folder, GeneratorProfile(providers=2, days=3, seed=1))
    return folder, summary.as_of


def test_no_rendered_message_contains_phi(
    practice: tuple[Path, datetime], sqlite_engine: Engine, tmp_path: Path
) -> None:
    folder, as_of = practice
    phi = phi_of(folder)
    assert all(len(v) > 5 for v in phi.values()), {k: len(v) for k, v in phi.items()}
    config_data = yaml.safe_load((folder / "practice.yaml").read_text())
    config_data["practice"]["calendar"] = {"hours": ALWAYS_OPEN}
    config_data["notify"] = {
        "channels": {"file": {"type": "file", "path": str(tmp_path / "files")}},
        "digest_top_items": 40,
        "urgent": [{"categories": ["pending-result"]}],
    }
    (tmp_path / "practice.yaml").write_text(yaml.safe_dump(config_data))
    config = load_config(tmp_path / "practice.yaml")
    run_sync(sqlite_engine, config, folder, as_of=as_of)
    counts = deliver(sqlite_engine, config)
    # One message per person: the urgent pending results lead urgent digests.
    assert counts.sent > 0 and counts.digests > 0

    with sqlite_engine.connect() as conn:
        rows = list(conn.execute(select(outbox_message)))
    rendered: list[str] = []
    listed = 0
    for row in rows:
        content = MessageContent.from_json(row.content)
        listed += len(content.items)
        message = Outgoing(row.id, row.message_key, row.channel, row.recipient, "staff@example.org",
                           row.kind, content, 1, datetime.now(UTC))  # fmt: skip
        rendered += [
            render.text(content, row.message_key),
            render.html_body(content, row.message_key),
            json.dumps(render.slack_blocks(content, row.message_key)),
            body_of(message).decode(),
            build_email(message, "chartroute@example.org").as_bytes(policy=SMTP).decode(),
        ]
    rendered += [p.read_text() for p in (tmp_path / "files").rglob("*.*")]
    assert listed > 40 and len(rendered) > 5 * len(rows)
    problems = {i: leaks(text, phi) for i, text in enumerate(rendered)}
    assert {i: p for i, p in problems.items() if p} == {}


def test_the_scan_finds_phi_when_it_is_there(practice: tuple[Path, datetime]) -> None:
    """The scanner itself can fail: planted PHI of each kind is found."""
    phi = phi_of(practice[0])
    for kind, values in phi.items():
        value = sorted(values)[0]
        assert leaks(f"item wi-1 for {value.upper()}, due soon", phi), kind
    assert leaks("nothing here but wi-1 and Encounter/enc-000001", phi) == []
