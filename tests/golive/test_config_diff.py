"""``config diff``: a rule change previewed as exactly the moves the next sync would make.

The store holds charts of two clinicians, each with a clinician's blocker (an unsigned note or
a missing diagnosis) and a medical assistant's (a pending lab). Each change of the practice
file is compared with what the store would become under it, and nothing is written.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import PracticeConfig, load_config
from chartroute.config_diff.compare import ConfigDiff, compare
from chartroute.config_diff.replay import replay
from chartroute.store.engine import make_engine
from chartroute.store.schema import metadata, work_item
from tests import builders as b
from tests.conftest import ROOT
from tests.notify.conftest import AS_OF, chart_resources, run_sync

AWAY_DAY = AS_OF.date().isoformat()


def practice_data() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "config" / "practice.yaml").read_text())
    assert isinstance(data, dict)
    return data


def person(data: dict[str, Any], person_id: str) -> dict[str, Any]:
    return next(p for p in data["roster"] if p["id"] == person_id)


def write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def resources() -> list[dict[str, Any]]:
    """Four charts with an unsigned note and a lab, two with only a missing diagnosis."""
    gaps = []
    for i, practitioner in enumerate(("Practitioner/prac-001", "Practitioner/prac-002")):
        gaps.append(b.encounter(f"gap{i}", practitioner=practitioner, diagnosis=False))
        gaps.append(b.note(f"gap{i}-note", f"Encounter/gap{i}"))
    return chart_resources("lab", 4) + gaps


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> tuple[Engine, PracticeConfig]:
    config = load_config(write(tmp_path, "current.yaml", practice_data()))
    b.write_ndjson(tmp_path / "src", resources())
    run_sync(engine, config, tmp_path / "src")
    return engine, config


def diff_to(engine: Engine, current: PracticeConfig, data: dict[str, Any], tmp: Path) -> ConfigDiff:
    proposed = load_config(write(tmp, "new.yaml", data))
    with engine.connect() as conn:
        return compare(replay(conn, current, AS_OF), replay(conn, proposed, AS_OF), proposed)


def open_items(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(work_item).where(work_item.c.status == "open")))


def moves(diff: ConfigDiff) -> set[tuple[str, str | None, str | None, str, str]]:
    return {(m.item, m.from_person, m.to_person, m.from_role, m.to_role) for m in diff.moves}


def test_the_same_file_changes_nothing(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    engine, current = store
    diff = diff_to(engine, current, practice_data(), tmp_path)
    assert diff.empty and not diff.blockers and not diff.past_capacity
    assert diff.charts == 6


def test_someone_out_of_office_hands_every_item_to_who_covers(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    engine, current = store
    data = practice_data()
    person(data, "ma-casey")["out_of_office"] = [AWAY_DAY]
    person(data, "ma-devon")["daily_capacity"] = 3
    held = [i for i in open_items(engine) if i.assignee == "ma-casey"]

    diff = diff_to(engine, current, data, tmp_path)

    assert held and moves(diff) == {
        (i.id, "ma-casey", "ma-devon", "medical-assistant", "medical-assistant") for i in held
    }
    assert not diff.appear and not diff.disappear and not diff.blockers
    devon = sum(1 for i in open_items(engine) if i.assignee == "ma-devon")
    assert [(q.person, q.before, q.after) for q in diff.past_capacity] == [
        ("ma-devon", devon, devon + len(held))
    ]
    routes = {(r.clinician, r.role): (r.before, r.after) for r in diff.new_items}
    assert routes[("dr-avery", "medical-assistant")] == ("ma-casey", "ma-devon")
    assert {r.after for r in diff.new_items} == {"ma-devon"}


def test_a_clinician_away_hands_their_clinical_items_to_their_backup(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    engine, current = store
    data = practice_data()
    person(data, "dr-avery")["out_of_office"] = [AWAY_DAY]
    held = [i for i in open_items(engine) if i.assignee == "dr-avery"]

    diff = diff_to(engine, current, data, tmp_path)

    assert held and moves(diff) == {
        (i.id, "dr-avery", "dr-blake", "clinician", "clinician") for i in held
    }


def test_moving_a_pod_member_moves_no_held_item_but_redirects_new_ones(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    engine, current = store
    data = practice_data()
    person(data, "ma-casey")["pod"] = ["dr-blake"]
    person(data, "ma-devon")["pod"] = ["dr-avery"]

    diff = diff_to(engine, current, data, tmp_path)

    assert diff.moves == [] and not diff.appear and not diff.disappear
    assert {(r.clinician, r.role, r.before, r.after) for r in diff.new_items} == {
        ("dr-avery", "medical-assistant", "ma-casey", "ma-devon"),
        ("dr-blake", "medical-assistant", "ma-devon", "ma-casey"),
    }


def test_routing_a_field_to_another_role_moves_exactly_its_items(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    engine, current = store
    data = practice_data()
    data["routing"]["documentation_fields"]["diagnosis"] = "medical-assistant"
    gaps = [i for i in open_items(engine) if i.subject == "diagnosis"]
    pod = {"dr-avery": "ma-casey", "dr-blake": "ma-devon"}

    diff = diff_to(engine, current, data, tmp_path)

    assert len(gaps) == 2 and moves(diff) == {
        (i.id, i.assignee, pod[i.assignee], "clinician", "medical-assistant") for i in gaps
    }
    assert not diff.new_items and not diff.blockers


def test_a_field_no_longer_required_disappears(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    engine, current = store
    data = practice_data()
    data["documentation"]["required_fields"].remove("diagnosis")
    gaps = {i.id for i in open_items(engine) if i.subject == "diagnosis"}

    diff = diff_to(engine, current, data, tmp_path)

    assert {i.id for i in diff.disappear} == gaps and not diff.appear and not diff.moves
    assert [(x.category, x.field, x.before, x.after) for x in diff.blockers] == [
        ("documentation-gap", "diagnosis", 2, 0)
    ]


def test_the_command_prints_the_moves_writes_nothing_and_refuses_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'diff.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    current = write(tmp_path, "current.yaml", practice_data())
    b.write_ndjson(tmp_path / "src", resources())
    engine = make_engine(url)
    run_sync(engine, load_config(current), tmp_path / "src")
    before = _row_counts(engine)
    data = practice_data()
    person(data, "ma-casey")["out_of_office"] = [AWAY_DAY]
    proposed = write(tmp_path, "new.yaml", data)
    runner = CliRunner()
    args = ["config", "diff", str(proposed), "--config", str(current), "--as-of", AS_OF.isoformat()]

    table = runner.invoke(app, args)
    as_json = runner.invoke(app, [*args, "--format", "json"])

    assert table.exit_code == 0, table.output
    assert (
        "ma-casey\tma-devon" in table.stdout and "would move" in table.stderr  # piped: titles
    )
    found = {(m["from_person"], m["to_person"]) for m in _json(as_json.stdout)["moves"]}
    assert found == {("ma-casey", "ma-devon")}
    assert _row_counts(engine) == before

    person(data, "ma-casey")["backup"] = "nobody-here"
    bad = write(tmp_path, "bad.yaml", data)
    refused = runner.invoke(app, ["config", "diff", str(bad), "--config", str(current)])
    line = next(
        n for n, text in enumerate(bad.read_text().splitlines(), 1) if "nobody-here" in text
    )
    assert refused.exit_code == 2
    assert f"{bad}:{line}: roster.2.backup: unknown person 'nobody-here'" in refused.stderr


def _json(text: str) -> dict[str, Any]:
    import json

    loaded = json.loads(text)
    assert isinstance(loaded, dict)
    return loaded


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def test_a_capacity_cut_shows_the_items_the_next_days_sync_moves_over_capacity(
    store: tuple[Engine, PracticeConfig], tmp_path: Path
) -> None:
    """Items are never moved on the day they were routed, so the diff of the day after shows
    them: everything past the new reach goes to whoever in the role has room."""
    engine, current = store
    data = practice_data()
    person(data, "ma-casey")["daily_capacity"] = 1
    held = sorted(
        (i for i in open_items(engine) if i.assignee == "ma-casey"),
        key=lambda i: (i.visit_at, -(i.billing_impact or 0), i.filing_deadline, i.id),
    )
    proposed = load_config(write(tmp_path, "new.yaml", data))
    tomorrow = AS_OF + timedelta(days=1)
    with engine.connect() as conn:
        today = compare(replay(conn, current, AS_OF), replay(conn, proposed, AS_OF), proposed)
        later = compare(replay(conn, current, tomorrow), replay(conn, proposed, tomorrow), proposed)
    assert len(held) > 1 and today.moves == []
    assert moves(later) == {
        (i.id, "ma-casey", "ma-devon", "medical-assistant", "medical-assistant") for i in held[1:]
    }
    data["routing"]["overflow"] = "none"
    strict = load_config(write(tmp_path, "strict.yaml", data))
    with engine.connect() as conn:
        assert (
            compare(replay(conn, current, tomorrow), replay(conn, strict, tomorrow), strict).moves
            == []
        )
