"""Turn references by identifier and by PractitionerRole into the keys the rules compare.

Extraction cannot resolve ``Practitioner?identifier=…|9999974493`` when it meets it: the
Practitioner holding that NPI may come later in the feed, or in another file. So facts keep
identifier keys, and a ``Resolver`` built from the identifiers of the resources the source
holds rewrites them when a chart is assembled — the in-memory path and the store build the
same resolver from the same facts, so NDJSON, Bundles, REST and Bulk give one answer.

A clinician reference is followed one step further: a PractitionerRole is the role, and the
roster knows the person, so it becomes the role's Practitioner. Every spelling met on the way
(role, practitioner, NPI) is kept as the clinician's aliases, so a roster entry by any of them
matches. An identifier matching nothing stays an identifier key: the roster can still know
an NPI nobody in the feed carries.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping

from chartroute.fhir.facts import ClinicianFact, EncounterFact, Fact
from chartroute.fhir.references import is_identifier_key, key_type

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
#: The fields of each kind of fact that hold keys of other resources.
_REF_FIELDS: dict[str, tuple[str, ...]] = {
    "Encounter": ("patient", "links"),
    "Note": ("encounters", "links"),
    "Order": ("encounter", "links"),
    "Report": ("based_on", "encounter", "links"),
    "Claim": ("encounters", "insurer", "links"),
    "ClaimResponse": ("request", "links"),
    "Task": ("focus", "encounter", "links"),
    "Condition": ("encounter", "links"),
    "Form": ("encounter", "links"),
    "Clinician": ("practitioner", "links"),
}


def npi_key(npi: str) -> str:
    """The identifier key a clinician known by this NPI has."""
    return f"Practitioner?identifier={NPI_SYSTEM}|{npi}"


class Resolver:
    """Resolves identifier keys against an index and follows roles to practitioners.

    ``resolved`` counts references answered by identifier; ``unresolved`` counts, by resource
    type, identifier references nothing in the source carries.
    """

    def __init__(
        self,
        by_identifier: Mapping[str, Iterable[str]],
        roles: Mapping[str, str | None] | None = None,
        identifiers_of: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.by_identifier: dict[str, list[str]] = {k: sorted(v) for k, v in by_identifier.items()}
        self.roles = dict(roles or {})
        self.identifiers_of = dict(identifiers_of or {})
        self.resolved = 0
        self.unresolved: Counter[str] = Counter()
        #: encounter key → {resolved clinician key → every key that clinician is known by}
        self.clinicians: dict[str, dict[str, tuple[str, ...]]] = {}

    @classmethod
    def of_facts(cls, facts: Iterable[Fact]) -> Resolver:
        """A resolver over facts held in memory."""
        index: dict[str, set[str]] = {}
        roles: dict[str, str | None] = {}
        idents: dict[str, tuple[str, ...]] = {}
        for fact in facts:
            for ident in fact.identifiers:
                index.setdefault(ident, set()).add(fact.key)
            if fact.identifiers:
                idents[fact.key] = fact.identifiers
            if isinstance(fact, ClinicianFact) and fact.practitioner:
                roles[fact.key] = fact.practitioner
        return cls(index, roles, idents)

    def key(self, key: str) -> str:
        """The resource key an identifier key names, or the key itself when none is known."""
        if not is_identifier_key(key):
            return key
        matches = self.by_identifier.get(key)
        if not matches:
            self.unresolved[key_type(key)] += 1
            return key
        self.resolved += 1
        return matches[0]

    def clinician(self, key: str) -> tuple[str, tuple[str, ...]]:
        """The key a clinician reference resolves to and every alias met on the way."""
        seen = [key]
        current = self.key(key)
        for _hop in range(3):  # a role's practitioner may itself be conditional
            if current not in seen:
                seen.append(current)
            target = self.roles.get(current) if key_type(current) == "PractitionerRole" else None
            if not target:
                break
            current = self.key(target)
        if current not in seen:
            seen.append(current)
        for alias in list(seen):
            seen.extend(i for i in self.identifiers_of.get(alias, ()) if i not in seen)
        return current, tuple(seen)

    def fact(self, fact: Fact) -> Fact:
        """The fact with every reference it holds resolved (the same object if none changes)."""
        changes: dict[str, object] = {}
        for name in _REF_FIELDS[fact.kind]:
            value = getattr(fact, name)
            if isinstance(value, str):
                new: object = self._ref(value)
            elif isinstance(value, tuple):
                new = tuple(dict.fromkeys(self._ref(v) for v in value))
            else:
                continue
            if new != value:
                changes[name] = new
        if isinstance(fact, EncounterFact) and fact.participants:
            known: dict[str, tuple[str, ...]] = {}
            parts = []
            for types, individual in fact.participants:
                key, aliases = self.clinician(individual)
                parts.append((types, key))
                known[key] = tuple(dict.fromkeys(known.get(key, ()) + aliases))
            self.clinicians[fact.key] = known
            if tuple(parts) != fact.participants:
                changes["participants"] = tuple(parts)
        return dataclasses.replace(fact, **changes) if changes else fact  # type: ignore[arg-type]

    def _ref(self, key: str) -> str:
        return self.key(key) if is_identifier_key(key) else key


def referenced_keys(fact: Fact) -> set[str]:
    """The identifier and clinician keys a fact refers to, for a store to look up."""
    out: set[str] = set()
    for name in _REF_FIELDS[fact.kind]:
        value = getattr(fact, name)
        for key in (value,) if isinstance(value, str) else value or ():
            if is_identifier_key(key):
                out.add(key)
    if isinstance(fact, EncounterFact):
        out.update(individual for _types, individual in fact.participants)
    if isinstance(fact, ClinicianFact) and fact.practitioner:
        out.add(fact.practitioner)
    return out
