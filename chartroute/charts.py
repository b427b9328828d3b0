"""Gather the facts that belong to each chart.

A fact belongs to an encounter's chart directly (a note's context.encounter, an order's
encounter, a claim item's encounter, a Task's focus) or through one hop (a result basedOn an
order, a payer response to a claim, a Task focused on a note). The same assembly serves the
in-memory path (``chartroute classify``) and the store, which loads a batch of charts with one
query per hop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from chartroute.fhir.facts import (
    ClaimFact,
    ClaimResponseFact,
    ConditionFact,
    EncounterFact,
    Fact,
    FhirTaskFact,
    FormFact,
    NoteFact,
    OrderFact,
    ReportFact,
)
from chartroute.fhir.resolve import Resolver


@dataclass
class ChartFacts:
    """An encounter and every fact tied to it, each list sorted by key for determinism."""

    encounter: EncounterFact
    notes: list[NoteFact] = field(default_factory=list)
    orders: list[OrderFact] = field(default_factory=list)
    reports: list[ReportFact] = field(default_factory=list)
    claims: list[ClaimFact] = field(default_factory=list)
    claim_responses: list[ClaimResponseFact] = field(default_factory=list)
    fhir_tasks: list[FhirTaskFact] = field(default_factory=list)
    conditions: list[ConditionFact] = field(default_factory=list)
    forms: list[FormFact] = field(default_factory=list)
    #: resolved clinician key → every key (role, practitioner, NPI) the clinician is known by
    clinician_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, fact: Fact) -> None:
        """File a related fact under its kind (the encounter itself is ignored)."""
        if isinstance(fact, NoteFact):
            self.notes.append(fact)
        elif isinstance(fact, OrderFact):
            self.orders.append(fact)
        elif isinstance(fact, ReportFact):
            self.reports.append(fact)
        elif isinstance(fact, ClaimFact):
            self.claims.append(fact)
        elif isinstance(fact, ClaimResponseFact):
            self.claim_responses.append(fact)
        elif isinstance(fact, FhirTaskFact):
            self.fhir_tasks.append(fact)
        elif isinstance(fact, ConditionFact):
            self.conditions.append(fact)
        elif isinstance(fact, FormFact):
            self.forms.append(fact)

    def sort(self) -> ChartFacts:
        for items in (
            self.notes,
            self.orders,
            self.reports,
            self.claims,
            self.claim_responses,
            self.fhir_tasks,
            self.conditions,
            self.forms,
        ):
            items.sort(key=lambda f: f.key)
        return self


def build_chart(
    encounter: EncounterFact, related: Iterable[Fact], resolver: Resolver | None = None
) -> ChartFacts:
    """A chart from its encounter and a (possibly over-inclusive) set of related facts.

    With a ``resolver``, references by identifier or role in every fact are resolved first,
    so the rules compare one spelling of each key.
    """
    if resolver is not None:
        encounter = resolver.fact(encounter)  # type: ignore[assignment]
        related = [resolver.fact(f) for f in related]
    chart = ChartFacts(encounter)
    if resolver is not None:
        chart.clinician_keys = resolver.clinicians.get(encounter.key, {})
    seen: set[str] = set()
    for fact in related:
        if fact.key in seen or fact.key == encounter.key:
            continue
        seen.add(fact.key)
        chart.add(fact)
    return chart.sort()


class FactIndex:
    """All facts of a source held in memory, for commands that write nothing.

    When the same resource arrives twice (a Bulk export split over files, or a re-sent
    version), the later ``meta.lastUpdated`` wins, as in the store.
    """

    def __init__(self) -> None:
        self._facts: dict[str, Fact] = {}
        #: the resolver of the last ``charts()`` pass, for its counts
        self.resolver = Resolver({})

    def add(self, fact: Fact) -> None:
        current = self._facts.get(fact.key)
        if current is not None and _newer(current, fact):
            return
        self._facts[fact.key] = fact

    def __len__(self) -> int:
        return len(self._facts)

    def replace(self, key: str, facts: Iterable[Fact]) -> None:
        """Put ``facts`` in place of the resource ``key`` and everything it contains."""
        for held in [k for k in self._facts if k == key or k.startswith(f"{key}#")]:
            del self._facts[held]
        for fact in facts:
            self._facts[fact.key] = fact

    def facts(self) -> list[Fact]:
        """Every fact held (the newest of each key), contained ones included."""
        return list(self._facts.values())

    def charts(self) -> Iterator[ChartFacts]:
        """Every encounter with its related facts, in encounter key order.

        References by identifier and role are resolved against every fact held first, so a
        note naming its encounter by identifier lands in that encounter's chart.
        """
        self.resolver = resolver = Resolver.of_facts(self._facts.values())
        resolved = [resolver.fact(f) for f in self._facts.values()]
        by_target: dict[str, list[Fact]] = defaultdict(list)
        for fact in resolved:
            for target in fact.links:
                by_target[target].append(fact)
        encounters = sorted(
            (f for f in resolved if isinstance(f, EncounterFact)), key=lambda f: f.key
        )
        for encounter in encounters:
            direct = by_target.get(encounter.key, [])
            related = list(direct)
            for fact in direct:
                related.extend(by_target.get(fact.key, []))
            chart = build_chart(encounter, related)
            chart.clinician_keys = resolver.clinicians.get(encounter.key, {})
            yield chart


def _newer(current: Fact, incoming: Fact) -> bool:
    """True when ``current`` is strictly newer than ``incoming`` and should be kept."""
    if current.updated_at is None or incoming.updated_at is None:
        return False
    return current.updated_at > incoming.updated_at
