"""Read the expectation suite files an engineer edits under ``config/expectations/``.

A suite file is a Great Expectations 1.x suite (``name``, ``expectations`` with ``type``,
``kwargs`` and ``meta``) in YAML or JSON, named after the table it checks. chartroute adds two
``meta`` keys: ``reason``, the text a failing record is quarantined with, and ``on_fail``,
``quarantine`` (default) or ``count``. A mistake in a file — an unknown table, a column the
table does not have, a missing reason — stops the run with a message naming the file and the
expectation, like a bad practice file does, instead of silently checking less.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from chartroute.validation.fact_tables import ROW, TABLES
from chartroute.validation.references import REFERENCE_COLUMNS, REFERENCES_TABLE

OnFail = Literal["quarantine", "count"]
PARAMETERS = frozenset({"latest_allowed", "as_of"})
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)
_SUFFIXES = (".yaml", ".yml", ".json")


def table_columns() -> dict[str, frozenset[str]]:
    """The columns of every table a suite may check."""
    columns = {name: frozenset(spec.column_names) for name, spec in TABLES.items()}
    columns[REFERENCES_TABLE] = frozenset((ROW, *REFERENCE_COLUMNS))
    return columns


def default_suites_dir() -> Path:
    """The project's own suites: ``config/expectations`` beside the package."""
    return Path(__file__).resolve().parents[2] / "config" / "expectations"


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file and the expectation."""


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation as written in a suite file."""

    type: str
    kwargs: dict[str, Any]
    reason: str
    on_fail: OnFail
    position: int  # 1-based, for messages

    def gx_config(self) -> dict[str, Any]:
        """The expectation as Great Expectations reads it."""
        return {"type": self.type, "kwargs": self.kwargs, "meta": {"reason": self.reason}}


@dataclass(frozen=True)
class Suite:
    """The expectations for one table, and the file they came from."""

    table: str
    path: Path
    expectations: tuple[ExpectationSpec, ...]

    def where(self, spec: ExpectationSpec) -> str:
        return f"{self.path}: expectation {spec.position} ({spec.type})"


def load_suites(folder: str | Path | None = None) -> tuple[Suite, ...]:
    """Every suite file in ``folder`` (default: the project's), sorted by table name."""
    directory = Path(folder) if folder else default_suites_dir()
    if not directory.is_dir():
        raise SuiteError(f"{directory}: expectation suites folder not found")
    suites = [
        load_suite_file(path)
        for path in sorted(directory.iterdir())
        if path.is_file() and path.suffix in _SUFFIXES
    ]
    tables = [s.table for s in suites]
    for table in tables:
        if tables.count(table) > 1:
            raise SuiteError(f"{directory}: more than one suite file for table {table!r}")
    return tuple(sorted(suites, key=lambda s: s.table))


def load_suite_file(path: Path) -> Suite:
    """One suite file, checked against the columns of the table it names."""
    table = path.stem
    columns = table_columns().get(table)
    if columns is None:
        known = ", ".join(sorted(table_columns()))
        raise SuiteError(f"{path}: no fact table named {table!r} (tables: {known})")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SuiteError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise SuiteError(f"{path}: expected a mapping with an `expectations` list")
    specs: list[ExpectationSpec] = []
    reasons: set[str] = set()
    for position, raw in enumerate(data["expectations"], start=1):
        spec = _spec(path, position, raw, columns)
        if spec.reason in reasons:
            raise SuiteError(f"{path}: expectation {position}: reason {spec.reason!r} used twice")
        reasons.add(spec.reason)
        specs.append(spec)
    return Suite(table, path, tuple(specs))


def _spec(path: Path, position: int, raw: object, columns: frozenset[str]) -> ExpectationSpec:
    where = f"{path}: expectation {position}"
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: expected a mapping with type, kwargs and meta")
    kind = raw.get("type")
    kwargs = raw.get("kwargs")
    meta = raw.get("meta") or {}
    if not isinstance(kind, str) or not kind.startswith("expect_"):
        raise SuiteError(f"{where}: `type` must name a Great Expectations expectation")
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{where}: `kwargs` must be a mapping")
    if not isinstance(meta, dict) or not isinstance(meta.get("reason"), str) or not meta["reason"]:
        raise SuiteError(f"{where}: `meta.reason` is required (the quarantine reason)")
    on_fail = meta.get("on_fail", "quarantine")
    if on_fail not in ("quarantine", "count"):
        raise SuiteError(f"{where}: `meta.on_fail` must be quarantine or count")
    named = [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs]
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict) and isinstance(condition.get("column"), dict):
        named.append(condition["column"].get("name"))
    for k in _COLUMN_LIST_KWARGS:
        if k in kwargs:
            if not isinstance(kwargs[k], list):
                raise SuiteError(f"{where}: `{k}` must be a list of columns")
            named.extend(kwargs[k])
    for column in named:
        if column not in columns:
            known = ", ".join(sorted(columns))
            raise SuiteError(f"{where}: the table has no column {column!r} (columns: {known})")
    for value in kwargs.values():
        parameter = value.get("$PARAMETER") if isinstance(value, dict) else None
        if parameter is not None and parameter not in PARAMETERS:
            raise SuiteError(
                f"{where}: unknown parameter {parameter!r} (known: {', '.join(sorted(PARAMETERS))})"
            )
    return ExpectationSpec(kind, dict(kwargs), meta["reason"], on_fail, position)
