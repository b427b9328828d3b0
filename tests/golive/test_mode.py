"""Shadow mode's other halves: no Task write-back, and the store's memory of having gone live."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import respx
from alembic import command
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig
from chartroute.config.ehr import Ehr
from chartroute.mode import LIVE_SINCE, current_mode, live_since
from chartroute.store import runs
from chartroute.store.engine import alembic_config
from chartroute.store.schema import setting, sync_run
from chartroute.vocabulary import Mode
from chartroute.writeback.run import write_back
from tests import builders as b
from tests.notify.conftest import AS_OF, chart_resources
from tests.notify.conftest import run_sync as sync_source

BASE = "https://ehr.test/fhir"


def with_ehr(config: PracticeConfig, mode: Mode) -> PracticeConfig:
    ehr = Ehr.model_validate({"base_url": BASE, "writeback": {"enabled": True}})
    return config.model_copy(update={"ehr": ehr, "mode": mode})


def test_shadow_writes_no_task_and_live_mirrors_the_open_items(
    engine: Engine, config: PracticeConfig, tmp_path: Path
) -> None:
    b.write_ndjson(tmp_path, chart_resources("e", 2))
    shadow, live = with_ehr(config, Mode.SHADOW), with_ehr(config, Mode.LIVE)
    assert sync_source(engine, shadow, tmp_path).opened == 4
    with respx.mock(base_url=BASE, assert_all_called=False) as ehr:
        created = ehr.post("/Task").mock(return_value=httpx.Response(201, json={}))
        skipped = write_back(engine, shadow)
        assert (skipped.mode, skipped.considered, created.call_count) == ("shadow", 0, 0)
        with engine.connect() as conn:
            assert not [r for r in conn.execute(select(setting)) if r.name.startswith("write")]
        written = write_back(engine, live)
    assert (written.mode, written.created, created.call_count) == ("live", 4, 4)


def test_an_explicit_mode_wins_and_an_absent_one_follows_the_store(
    engine: Engine, config: PracticeConfig
) -> None:
    unsaid = config.model_copy(update={"mode": None})
    with engine.begin() as conn:
        assert current_mode(conn, unsaid) is Mode.SHADOW
        assert current_mode(conn, config.model_copy(update={"mode": Mode.LIVE})) is Mode.LIVE
        runs.put_setting(conn, LIVE_SINCE, datetime(2026, 1, 5, tzinfo=UTC).isoformat())
        assert current_mode(conn, unsaid) is Mode.LIVE
        assert current_mode(conn, config.model_copy(update={"mode": Mode.SHADOW})) is Mode.SHADOW


def test_upgrading_a_store_that_already_ran_keeps_it_live(engine: Engine) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        conn.execute(
            sync_run.insert().values(
                id="run-1", source="src", as_of=AS_OF, started_at=AS_OF, status="completed"
            )
        )
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert live_since(conn) is not None


def test_a_new_store_has_never_gone_live(engine: Engine) -> None:
    with engine.connect() as conn:
        assert live_since(conn) is None


def test_config_check_says_the_mode(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chartroute.cli.main import app
    from tests.conftest import ROOT

    text = (ROOT / "config" / "practice.yaml").read_text()
    unsaid = tmp_path / "unsaid.yaml"
    unsaid.write_text(text.replace("\nmode: shadow\n", "\n"))
    said = CliRunner().invoke(
        app, ["config", "check", "--config", str(ROOT / "config" / "practice.yaml")]
    )
    quiet = CliRunner().invoke(app, ["config", "check", "--config", str(unsaid)])
    assert said.exit_code == quiet.exit_code == 0
    assert "mode shadow" in said.stderr
    assert "mode not set (shadow until the practice has run live)" in " ".join(quiet.stderr.split())
