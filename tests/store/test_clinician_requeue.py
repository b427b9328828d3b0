"""A clinician's fact changing queues the charts it renders, now on the server (issue 19).

The charts are queued with ``INSERT … SELECT``; these tests hold that to the same set the
earlier Python version computed (kept below as the reference), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from chartroute.fhir.facts import ClinicianFact
from chartroute.fhir.references import key_type
from chartroute.store.facts import (
    _identifiers_of,
    _is_encounter,
    _queue_charts_of_clinicians,
    mark_dirty,
    upsert_facts,
)
from chartroute.store.key_sets import key_in
from chartroute.store.schema import dirty_key, fact_identifier, fact_link

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NPI_1 = "Practitioner?identifier=npi|1"


def _charts_of_clinicians_before(conn: Connection, clinicians: list[ClinicianFact]) -> set[str]:
    """The Python version this replaced, verbatim but for its name: the reference."""
    targets = {f.key for f in clinicians} | {i for f in clinicians for i in f.identifiers}
    encounters: set[str] = set()
    for _hop in range(2):  # encounter → role → practitioner
        if not targets:
            break
        stmt = select(fact_link.c.fact_key).where(key_in(conn, fact_link.c.target_key, targets))
        found = set(conn.execute(stmt).scalars())
        encounters.update(k for k in found if _is_encounter(k))
        roles = {k for k in found if key_type(k) == "PractitionerRole"}
        targets = roles | {i for idents in _identifiers_of(conn, roles).values() for i in idents}
    return encounters


def _store(conn: Connection, links: set[tuple[str, str]], idents: set[tuple[str, str]]) -> None:
    if links:
        conn.execute(fact_link.insert(), [{"fact_key": f, "target_key": t} for f, t in links])
    if idents:
        conn.execute(fact_identifier.insert(), [{"identifier_key": i, "key": k} for i, k in idents])


def _queued(conn: Connection) -> set[str]:
    return set(conn.execute(select(dirty_key.c.key)).scalars())


def _clinician(key: str, *identifiers: str, practitioner: str | None = None) -> ClinicianFact:
    return ClinicianFact(key, "1", NOW, practitioner, (), identifiers)


def test_a_practitioner_arriving_after_its_charts_queues_them(engine: Engine) -> None:
    """By key, by identifier, through a role by key and through a role by identifier; not a
    contained resource, a note, another clinician's chart, a third hop or another case."""
    links = {
        ("Encounter/e1", "Practitioner/p1"),
        ("Encounter/e2", NPI_1),
        ("Encounter/e3", "PractitionerRole/r1"),
        ("PractitionerRole/r1", "Practitioner/p1"),
        ("Encounter/e4", "PractitionerRole?identifier=local|r2"),
        ("PractitionerRole/r2", NPI_1),
        ("Encounter/e5#part", "Practitioner/p1"),
        ("DocumentReference/d1", "Practitioner/p1"),
        ("Encounter/e6", "Practitioner/p2"),
        ("Encounter/e7", "PractitionerRole/r3"),
        ("PractitionerRole/r3", "PractitionerRole/r1"),
        ("encounter/e8", "Practitioner/p1"),
    }
    idents = {("PractitionerRole?identifier=local|r2", "PractitionerRole/r2")}
    with engine.begin() as conn:
        _store(conn, links, idents)
        mark_dirty(conn, ["Encounter/e1"])  # already queued: skipped, not an error
        upsert_facts(conn, [_clinician("Practitioner/p1", NPI_1)], NOW)
        assert _queued(conn) == {"Encounter/e1", "Encounter/e2", "Encounter/e3", "Encounter/e4"}


def _random_graph(
    rng: random.Random,
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], list[ClinicianFact]]:
    """Links among encounters (contained ones and a wrong case too), roles, notes and
    practitioners, by key and by identifier; and a few clinicians' facts arriving."""
    practitioners = [f"Practitioner/p{i}" for i in range(6)]
    roles = [f"PractitionerRole/r{i}" for i in range(6)] + ["PractitionerRole/r0#c"]
    alias = {k: f"{k.split('/')[0]}?identifier=sys|{k.split('/')[1]}" for k in practitioners}
    alias.update({k: f"PractitionerRole?identifier=sys|{k.split('/')[1]}" for k in roles})
    clinicians = practitioners + roles
    named = clinicians + list(alias.values())
    sources = (
        [f"Encounter/e{i}" for i in range(40)]
        + [f"Encounter/e{i}#x" for i in range(5)]
        + ["encounter/e1", "Encounter", "DocumentReference/d1", "Task/t1"]
        + roles
    )
    links = {(rng.choice(sources), rng.choice(named)) for _ in range(120)}
    idents = {(alias[k], k) for k in clinicians if rng.random() < 0.7}
    arriving = [
        _clinician(k, *([alias[k]] if rng.random() < 0.5 else []))
        for k in rng.sample(clinicians, rng.randint(0, 4))
    ]
    return links, idents, arriving


def test_the_server_queues_the_same_charts_as_the_python_version(engine: Engine) -> None:
    for seed in range(30):
        links, idents, arriving = _random_graph(random.Random(seed))
        with engine.connect() as conn:
            _store(conn, links, idents)
            mark_dirty(conn, ["Encounter/e0", "Encounter/e39"])
            expected = _queued(conn) | _charts_of_clinicians_before(conn, arriving)
            _queue_charts_of_clinicians(conn, arriving)
            assert _queued(conn) == expected, seed
            conn.rollback()
