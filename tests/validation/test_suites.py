"""Suite files: edited without code changes, and a mistake in one is reported with its place."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from chartroute.config.validation import Validation
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.validation.feed import FeedValidator
from chartroute.validation.suites import SuiteError, default_suites_dir, load_suites
from tests import builders as b


def decoded(*resources: dict[str, object]) -> list[Decoded | Rejected]:
    import orjson

    return [
        decode_record(SourceRecord(location=f"t:{i}", raw=orjson.dumps(r)))
        for i, r in enumerate(resources, start=1)
    ]


def test_the_project_suites_cover_every_fact_table() -> None:
    tables = {s.table for s in load_suites()}
    assert tables == {
        "claim_responses",
        "claims",
        "conditions",
        "encounters",
        "forms",
        "notes",
        "orders",
        "references",
        "results",
        "tasks",
    }


def test_an_engineer_changes_a_check_by_editing_a_file(tmp_path: Path, as_of: datetime) -> None:
    suites = tmp_path / "suites"
    shutil.copytree(default_suites_dir(), suites)
    items = decoded(b.encounter("e1", klass="IMP"), b.encounter("e2"))
    before = FeedValidator(Validation(suites_dir=str(suites)), as_of).screen(items)
    assert all(isinstance(i, Decoded) for i in before.items)
    path = suites / "encounters.yaml"
    path.write_text(path.read_text().replace("AMB, EMER, FLD, HH, IMP,", "AMB, EMER, FLD, HH,"))
    after = FeedValidator(Validation(suites_dir=str(suites)), as_of).screen(items)
    assert isinstance(after.items[0], Rejected) and isinstance(after.items[1], Decoded)
    assert after.items[0].reasons == ("class: not in the v3 ActEncounterCode value set",)


def test_count_only_expectations_hold_nothing(as_of: datetime) -> None:
    task = b.task("t1")
    del task["code"]
    result = FeedValidator(Validation(), as_of).screen(decoded(task))
    assert isinstance(result.items[0], Decoded)
    assert result.checks["tasks / code: missing (cannot be recognised as a coding query)"] == {
        "checked": 1,
        "failed": 1,
    }


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("colours.yaml", "expectations: []\n", "no fact table named 'colours'"),
        ("encounters.yaml", "name: x\n", "expected a mapping with an `expectations` list"),
        (
            "encounters.yaml",
            "expectations:\n  - type: expect_column_values_to_not_be_null\n"
            "    kwargs: {column: status}\n",
            "expectation 1: `meta.reason` is required",
        ),
        (
            "encounters.yaml",
            "expectations:\n  - type: expect_column_values_to_not_be_null\n"
            "    kwargs: {column: colour}\n    meta: {reason: r}\n",
            "expectation 1: the table has no column 'colour'",
        ),
        (
            "encounters.yaml",
            "expectations:\n  - type: expect_column_values_to_be_between\n"
            "    kwargs: {column: end_at, max_value: {$PARAMETER: tomorrow}}\n"
            "    meta: {reason: r}\n",
            "unknown parameter 'tomorrow'",
        ),
        (
            "encounters.yaml",
            "expectations:\n  - type: expect_column_values_to_not_be_null\n"
            "    kwargs: {column: status}\n    meta: {reason: r, on_fail: ignore}\n",
            "`meta.on_fail` must be quarantine or count",
        ),
        (
            "encounters.yaml",
            "expectations:\n"
            "  - {type: expect_column_values_to_not_be_null, kwargs: {column: status},\n"
            "     meta: {reason: r}}\n"
            "  - {type: expect_column_values_to_not_be_null, kwargs: {column: key},\n"
            "     meta: {reason: r}}\n",
            "expectation 2: reason 'r' used twice",
        ),
    ],
)
def test_a_mistake_names_the_file_and_expectation(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SuiteError) as err:
        load_suites(tmp_path)
    assert str(err.value).startswith(str(tmp_path / name)) and message in str(err.value)


def test_an_expectation_gx_does_not_know_is_reported(tmp_path: Path, as_of: datetime) -> None:
    (tmp_path / "encounters.yaml").write_text(
        "expectations:\n  - type: expect_column_values_to_be_purple\n"
        "    kwargs: {column: status}\n    meta: {reason: r}\n"
    )
    with pytest.raises(SuiteError) as err:
        _ = FeedValidator(Validation(suites_dir=str(tmp_path)), as_of).runner  # built when used
    assert (
        f"{tmp_path / 'encounters.yaml'}: expectation 1 (expect_column_values_to_be_purple)"
        in str(err.value)
    )


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="expectation suites folder not found"):
        load_suites(tmp_path / "nowhere")
