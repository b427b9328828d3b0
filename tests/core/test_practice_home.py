"""One practice home: every command finds its practice file and database the same way, says
which on its first line, and a command that only reads never creates an empty store."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.demo import _is_default
from chartroute.cli.main import app
from chartroute.cli.practice_home import record_home_default
from chartroute.store.engine import make_engine
from tests import builders as b
from tests.conftest import ROOT

EXAMPLE = ROOT / "config" / "practice.yaml"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home and a current folder with no config/ in it."""
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHARTROUTE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CHARTROUTE_CONFIG", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def first_line(err: str) -> str:
    return err.splitlines()[0] if err else ""


def test_the_order_is_option_environment_home_example(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run("config", "check")
    assert code == 2 and err.startswith("error: no practice file: --config not given, ")
    assert f"none at {elsewhere / 'home' / 'practice.yaml'}" in err
    assert f"nor at {Path.cwd() / 'config' / 'practice.yaml'}" in err

    (Path.cwd() / "config").mkdir()
    shutil.copy(EXAMPLE, Path.cwd() / "config" / "practice.yaml")
    code, _, err = run("config", "check")
    assert code == 0 and first_line(err) == "using practice config/practice.yaml (from default)"

    home_file = elsewhere / "home" / "practice.yaml"
    home_file.parent.mkdir()
    shutil.copy(EXAMPLE, home_file)
    code, _, err = run("config", "check")
    assert code == 0 and first_line(err) == f"using practice {home_file} (from $CHARTROUTE_HOME)"

    named = elsewhere / "named.yaml"
    shutil.copy(EXAMPLE, named)
    monkeypatch.setenv("CHARTROUTE_CONFIG", str(named))
    code, _, err = run("config", "check")
    assert code == 0 and first_line(err) == f"using practice {named} (from CHARTROUTE_CONFIG)"

    code, _, err = run("config", "check", "--config", str(EXAMPLE))
    assert code == 0 and first_line(err) == f"using practice {EXAMPLE} (from --config)"


def test_a_command_with_a_store_names_the_database_too(elsewhere: Path) -> None:
    _, _, err = run("roi", "--config", str(EXAMPLE))
    assert first_line(err).startswith(f"using practice {EXAMPLE} (from --config), database ")


@pytest.mark.parametrize(
    "command",
    [["worklist"], ["outbox"], ["quarantine"], ["roi"], ["report"], ["review", "report"]],
    ids=lambda c: " ".join(c),
)
def test_reading_commands_never_create_an_empty_store(elsewhere: Path, command: list[str]) -> None:
    config = (
        [] if command[0] in ("worklist", "outbox", "quarantine") else ["--config", str(EXAMPLE)]
    )
    code, out, err = run(*command, *config)
    said = " ".join(err.split())
    assert code == 2, err
    assert f"no database at {elsewhere / 'home' / 'chartroute.db'}" in said
    assert "CHARTROUTE_HOME=" in said and out == ""
    assert not (elsewhere / "home" / "chartroute.db").exists()


def test_classify_warns_when_the_roster_knows_none_of_the_clinicians(
    elsewhere: Path,
) -> None:
    source = elsewhere / "export"
    b.write_ndjson(
        source,
        [
            b.encounter("e1", practitioner="Practitioner/somebody-else"),
            b.encounter("e2", practitioner="Practitioner/somebody-else", reason=False),
        ],
    )
    code, _, err = run("classify", str(source), "--config", str(EXAMPLE), "--as-of", "2026-03-10")
    said = " ".join(err.split())
    assert code == 0
    assert "has none of this source's clinicians: 2 blockers left unassigned" in said, said

    b.write_ndjson(source, [b.encounter("e1")])  # the example's own clinician: no warning
    code, _, err = run("classify", str(source), "--config", str(EXAMPLE), "--as-of", "2026-03-10")
    assert code == 0 and "none of this source's clinicians" not in err


def test_the_demo_practice_becomes_the_homes_default(elsewhere: Path) -> None:
    demo = elsewhere / "home" / "demo-practice"
    demo.mkdir(parents=True)
    shutil.copy(EXAMPLE, demo / "practice.yaml")
    said = record_home_default(demo / "practice.yaml")
    assert "need no --config" in said
    code, _, err = run("config", "check")
    assert code == 0
    assert first_line(err) == (
        f"using practice {elsewhere / 'home' / 'practice.yaml'} (from $CHARTROUTE_HOME)"
    )
    assert record_home_default(demo / "practice.yaml").endswith("need no --config")  # again
    assert _is_default(str(demo / "practice.yaml"))  # the demo's hint then drops --config

    link = elsewhere / "home" / "practice.yaml"
    link.unlink()
    link.write_text(EXAMPLE.read_text())  # the operator's own file is never replaced
    assert "kept" in record_home_default(demo / "practice.yaml")
    assert not link.is_symlink()
    assert not _is_default(str(demo / "practice.yaml"))  # so the hint keeps --config


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database with no tables at all (no chartroute store in it)."""
    from sqlalchemy import create_engine, text

    from tests.conftest import PG_ADMIN_URL

    name = f"chartroute_e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_reading_postgres_never_puts_a_schema_in_an_empty_database(
    elsewhere: Path, empty_postgres: str, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, inspect

    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", empty_postgres)
    code, _, err = run("worklist")
    assert code == 2 and "no chartroute tables in postgresql" in err
    probe = create_engine(empty_postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    assert inspect(probe).get_table_names() == []
    probe.dispose()

    make_engine(postgres_url).dispose()  # a chartroute store
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", postgres_url)
    code, out, err = run("worklist")
    assert code == 0 and first_line(err).startswith("using database postgresql")
    assert out.startswith("priority\tid\t")
