"""pandas frames of the facts the rules read: the tables the expectation suites check.

One frame per kind of fact, one row per distinct fact, with a unique integer ``row`` column
that Great Expectations reports failing rows by. Each row remembers the records it came from,
so a failing row quarantines whole records (a resource and everything it contains), never a
fragment of one. A record sent twice with identical content becomes one row owned by both
copies; a record sent twice at the same version with different content becomes two rows that
the uniqueness check on (key, version) catches.

Low-cardinality code columns are categoricals: value-set checks on them cost a fraction of the
same checks on strings (measured in ``bench/validation.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chartroute.fhir.dates import format_instant
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

if TYPE_CHECKING:
    import pandas as pd

ROW = "row"

#: Column kinds: ``text`` (free strings), ``code`` (categorical), ``time`` (UTC datetimes),
#: ``flag`` (booleans).
Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TableSpec:
    """How one kind of fact becomes rows of one table."""

    name: str
    fact_type: type[Any]
    columns: Columns
    values: Callable[[Any, str], tuple[object, ...]]  # (fact, version label) -> row values

    @property
    def column_names(self) -> tuple[str, ...]:
        return (ROW, *(name for name, _ in self.columns))


def _codes(codings: Iterable[str]) -> str | None:
    joined = " ".join(codings)
    return joined or None


def _encounter(f: EncounterFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, f.class_code, f.start_at, f.end_at, f.updated_at)


def _note(f: NoteFact, version: str) -> tuple[object, ...]:
    composition = f.is_composition
    return (
        f.key,
        version,
        "Composition" if composition else "DocumentReference",
        None if composition else f.status,
        f.status if composition else None,
        f.doc_status,
        f.signed_at,
        f.updated_at,
    )


def _order(f: OrderFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, _codes(f.category_codings), f.authored_at, f.updated_at)


def _report(f: ReportFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, f.issued_at, f.updated_at)


def _claim(f: ClaimFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, f.use, f.created_at, f.updated_at)


def _task(f: FhirTaskFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, _codes(f.codes), f.authored_at, f.updated_at)


def _claim_response(f: ClaimResponseFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, f.outcome, f.created_at, f.updated_at)


def _condition(f: ConditionFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.verification_status, f.updated_at)


def _form(f: FormFact, version: str) -> tuple[object, ...]:
    return (f.key, version, f.status, f.updated_at)


_KEY: Columns = (("key", "text"), ("version", "text"))

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "encounters",
            EncounterFact,
            (
                *_KEY,
                ("status", "code"),
                ("class_code", "code"),
                ("start_at", "time"),
                ("end_at", "time"),
                ("updated_at", "time"),
            ),
            _encounter,
        ),
        TableSpec(
            "notes",
            NoteFact,
            (
                *_KEY,
                ("resource_type", "code"),
                ("document_status", "code"),
                ("composition_status", "code"),
                ("doc_status", "code"),
                ("signed_at", "time"),
                ("updated_at", "time"),
            ),
            _note,
        ),
        TableSpec(
            "orders",
            OrderFact,
            (
                *_KEY,
                ("status", "code"),
                ("category", "code"),
                ("authored_at", "time"),
                ("updated_at", "time"),
            ),
            _order,
        ),
        TableSpec(
            "results",
            ReportFact,
            (*_KEY, ("status", "code"), ("issued_at", "time"), ("updated_at", "time")),
            _report,
        ),
        TableSpec(
            "claims",
            ClaimFact,
            (
                *_KEY,
                ("status", "code"),
                ("use", "code"),
                ("created_at", "time"),
                ("updated_at", "time"),
            ),
            _claim,
        ),
        TableSpec(
            "tasks",
            FhirTaskFact,
            (
                *_KEY,
                ("status", "code"),
                ("code", "code"),
                ("authored_at", "time"),
                ("updated_at", "time"),
            ),
            _task,
        ),
        # The three below decide charts too (a payer's answer to a prior authorization, an
        # encounter diagnosis, a required form), so they get the same checks as the rest.
        TableSpec(
            "claim_responses",
            ClaimResponseFact,
            (
                *_KEY,
                ("status", "code"),
                ("outcome", "code"),
                ("created_at", "time"),
                ("updated_at", "time"),
            ),
            _claim_response,
        ),
        TableSpec(
            "conditions",
            ConditionFact,
            (*_KEY, ("verification_status", "code"), ("updated_at", "time")),
            _condition,
        ),
        TableSpec(
            "forms",
            FormFact,
            (*_KEY, ("status", "code"), ("updated_at", "time")),
            _form,
        ),
    )
}

_TABLE_OF: dict[type[Any], TableSpec] = {spec.fact_type: spec for spec in TABLES.values()}


def version_label(fact: Fact) -> str:
    """What tells two copies of a resource apart: versionId, else lastUpdated, else nothing."""
    if fact.version:
        return fact.version
    if fact.updated_at is not None:
        return format_instant(fact.updated_at)
    return ""


@dataclass
class FactTables:
    """Frames by table name, and which records produced each row.

    ``first_owner[table][row]`` is the record a row came from; ``more_owners`` lists the other
    records that sent an identical copy (rare, so kept apart: one list per row would be a
    million allocations per million rows).
    """

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    first_owner: dict[str, list[int]] = field(default_factory=dict)
    more_owners: dict[tuple[str, int], list[int]] = field(default_factory=dict)

    def owners(self, table: str, row: int) -> list[int]:
        """Indices of every record that produced ``row`` of ``table``."""
        return [self.first_owner[table][row], *self.more_owners.get((table, row), ())]


def build_fact_tables(records: Iterable[tuple[int, Sequence[Fact]]]) -> FactTables:
    """Frames for the facts of ``records``: (record index, the record's facts, its own first)."""
    tables = FactTables()
    rows: dict[str, list[tuple[object, ...]]] = {}
    facts_of: dict[str, list[Fact]] = {}
    first_row: dict[str, dict[str, int]] = {}  # table -> fact key -> its first row
    later_rows: dict[tuple[str, str], list[int]] = {}  # (table, key) -> further rows
    for index, facts in records:
        if not facts:
            continue
        version = version_label(facts[0])  # contained facts share their container's version
        for fact in facts:
            spec = _TABLE_OF.get(type(fact))
            if spec is None:
                continue
            name = spec.name
            if name not in rows:
                rows[name], facts_of[name], first_row[name] = [], [], {}
                tables.first_owner[name] = []
            table_facts = facts_of[name]
            row = len(table_facts)
            seen = first_row[name].setdefault(fact.key, row)
            if seen != row:  # the key came before: an identical copy, or a conflict to check
                candidates = [seen, *later_rows.get((name, fact.key), ())]
                twin = next((r for r in candidates if table_facts[r] == fact), None)
                if twin is not None:
                    owners = tables.more_owners.setdefault((name, twin), [])
                    if index != tables.first_owner[name][twin] and index not in owners:
                        owners.append(index)
                    continue
                later_rows.setdefault((name, fact.key), []).append(row)
            rows[name].append((row, *spec.values(fact, version)))
            table_facts.append(fact)
            tables.first_owner[name].append(index)
    del facts_of, first_row, later_rows  # only needed to find copies: not kept next to frames
    for name in list(rows):
        spec = TABLES[name]
        kinds = (("row", "int"), *spec.columns)
        # each table's rows go as soon as its frame is built
        tables.frames[name] = make_frame(spec.column_names, kinds, rows.pop(name))
    return tables


def make_frame(
    names: Sequence[str], kinds: Sequence[tuple[str, str]], rows: Sequence[tuple[object, ...]]
) -> pd.DataFrame:
    """A frame with each column typed by its kind (shared with the references table)."""
    # one pass per column, each list freed once typed: zip(*rows) over a million rows costs
    # ten times more
    columns = ([row[position] for row in rows] for position in range(len(kinds)))
    return frame_of_columns(names, kinds, columns)


def frame_of_columns(
    names: Sequence[str], kinds: Sequence[tuple[str, str]], columns: Iterable[Sequence[Any]]
) -> pd.DataFrame:
    """``make_frame`` from the values of each column rather than from rows."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for (name, kind), values in zip(kinds, columns, strict=True):
        if kind == "code":
            data[name] = pd.Categorical(values)
        elif kind == "time":
            data[name] = pd.to_datetime(values, utc=True).as_unit("us")
        elif kind == "int":
            data[name] = np.fromiter(values, dtype="int64", count=len(values))
        elif kind == "flag":
            data[name] = np.array(values, dtype="bool")
        else:
            data[name] = pd.array(values, dtype="str")
    return pd.DataFrame(data, columns=list(names))
