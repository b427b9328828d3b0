"""Typed facts: the few fields of each FHIR resource that the classification rules read.

Validating a whole resource into a fhir.resources model costs 50-100 times more than decoding
it, so the sync path extracts these facts with a fast decoder and keeps them as small frozen
structs. They are what the store persists and what ``classify`` reads; the raw resource is
never needed to decide a blocker.

Every fact has a ``key`` (``Type/id``), the resource ``version`` (meta.versionId) and
``updated_at`` (meta.lastUpdated), and ``links``: the keys it points at that tie it to a
chart (an Encounter directly, or an order, claim or note that belongs to one). Every datetime
field ends in ``_at`` so serialisation can restore it without a per-class schema.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

import orjson


@dataclass(frozen=True, slots=True)
class EncounterFact:
    """An Encounter: whether it is a chart, who rendered it, which fields it carries."""

    kind: ClassVar[str] = "Encounter"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    class_code: str | None
    type_codings: tuple[str, ...]  # "system|code"
    start_at: datetime | None
    end_at: datetime | None
    has_reason: bool
    has_diagnosis: bool
    participants: tuple[tuple[tuple[str, ...], str], ...]  # (type codes, individual key)
    patient: str | None
    identifier: str | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class NoteFact:
    """A clinical note: a DocumentReference or a Composition."""

    kind: ClassVar[str] = "Note"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None  # DocumentReference.status or Composition.status
    doc_status: str | None  # DocumentReference.docStatus; None for a Composition
    type_codings: tuple[str, ...]
    encounters: tuple[str, ...]
    signed_at: datetime | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource

    @property
    def is_composition(self) -> bool:
        return self.key.startswith("Composition/")


@dataclass(frozen=True, slots=True)
class OrderFact:
    """A ServiceRequest: a lab or imaging order, or a referral."""

    kind: ClassVar[str] = "Order"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    category_codings: tuple[str, ...]
    encounter: str | None
    authored_at: datetime | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class ReportFact:
    """A DiagnosticReport, tied to its order by basedOn."""

    kind: ClassVar[str] = "Report"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    based_on: tuple[str, ...]
    encounter: str | None
    issued_at: datetime | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class ClaimFact:
    """A Claim: a prior authorization request or a billing claim."""

    kind: ClassVar[str] = "Claim"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    use: str | None
    encounters: tuple[str, ...]
    item_codes: tuple[str, ...]  # item.productOrService codes
    total: float | None
    insurer: str | None
    created_at: datetime | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class ClaimResponseFact:
    """A payer's ClaimResponse to a Claim."""

    kind: ClassVar[str] = "ClaimResponse"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    outcome: str | None
    request: str | None
    created_at: datetime | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class FhirTaskFact:
    """A FHIR Task (a to-do in the EHR), such as a coder's query about a chart.

    Named for the resource in full because *task* alone, in this project, is a Prefect task
    (``chartroute.tasks``); the same goes for ``ChartFacts.fhir_tasks`` and the write-back's
    ``build_fhir_task``.
    """

    kind: ClassVar[str] = "Task"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    codes: tuple[str, ...]  # Task.code codings' codes (any system)
    focus: str | None
    encounter: str | None
    authored_at: datetime | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class ConditionFact:
    """A Condition, which may record an encounter diagnosis."""

    kind: ClassVar[str] = "Condition"
    key: str
    version: str | None
    updated_at: datetime | None
    verification_status: str | None
    category_codings: tuple[str, ...]
    encounter: str | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class FormFact:
    """A QuestionnaireResponse: a form filled in for an encounter."""

    kind: ClassVar[str] = "Form"
    key: str
    version: str | None
    updated_at: datetime | None
    status: str | None
    questionnaire: str | None
    encounter: str | None
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # identifier keys naming this resource


@dataclass(frozen=True, slots=True)
class ClinicianFact:
    """A Practitioner or PractitionerRole: who a participant, author or owner reference means.

    Read only for its identifiers (an NPI) and, for a role, the Practitioner it is for, so a
    conditional or role reference can be followed to the person a roster knows.
    """

    kind: ClassVar[str] = "Clinician"
    key: str
    version: str | None
    updated_at: datetime | None
    practitioner: str | None  # PractitionerRole.practitioner; None for a Practitioner
    links: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()


Fact = (
    EncounterFact
    | NoteFact
    | OrderFact
    | ReportFact
    | ClaimFact
    | ClaimResponseFact
    | FhirTaskFact
    | ConditionFact
    | FormFact
    | ClinicianFact
)

FACT_CLASSES: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (
        EncounterFact,
        NoteFact,
        OrderFact,
        ReportFact,
        ClaimFact,
        ClaimResponseFact,
        FhirTaskFact,
        ConditionFact,
        FormFact,
        ClinicianFact,
    )
}


def fill_slots_init(cls: type[Any]) -> None:
    """Give a frozen slots dataclass an ``__init__`` that fills its slots directly.

    The one ``dataclass`` writes for a frozen class calls ``object.__setattr__`` field by
    field, to get past the frozen ``__setattr__``; building the facts was then the largest
    single cost of ``decode_record`` after the dates. The slots' own setters get past it too,
    at less than half the cost. Same parameters, order and defaults, so ``cls(**fields)`` and
    ``dataclasses.replace`` read as before; the class stays frozen to everyone else.
    """
    params, body = [], []
    env: dict[str, Any] = {}
    for f in fields(cls):
        assert f.default_factory is MISSING, "a default factory would need its own call"
        env[f"set_{f.name}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        if f.default is MISSING:
            params.append(f.name)
        else:
            env[f"default_{f.name}"] = f.default
            params.append(f"{f.name}=default_{f.name}")
        body.append(f"    set_{f.name}(self, {f.name})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010


for _cls in FACT_CLASSES.values():
    fill_slots_init(_cls)

_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(cls)) for kind, cls in FACT_CLASSES.items()
}
_TIME_FIELDS: dict[str, frozenset[str]] = {
    kind: frozenset(n for n in names if n.endswith("_at")) for kind, names in _FIELD_NAMES.items()
}


def fact_to_json(fact: Fact) -> bytes:
    """Serialise a fact; ``fact_from_json`` restores it exactly."""
    kind = fact.kind
    payload = {name: getattr(fact, name) for name in _FIELD_NAMES[kind]}
    if not payload["identifiers"]:  # keeps the stored hash of facts written before identifiers
        del payload["identifiers"]
    payload["kind"] = kind
    return orjson.dumps(payload)


def _restore(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_restore(v) for v in value)
    return value


def fact_from_json(data: bytes | str) -> Fact:
    """Inverse of ``fact_to_json``; on the classification hot path, so kept lean."""
    payload = orjson.loads(data)
    kind = payload.pop("kind")
    times = _TIME_FIELDS[kind]
    for name, value in payload.items():
        if type(value) is list:
            payload[name] = _restore(value)
        elif name in times and value is not None:
            payload[name] = datetime.fromisoformat(value)
    fact: Fact = FACT_CLASSES[kind](**payload)
    return fact
