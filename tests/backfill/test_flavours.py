"""A backfill reconstructs the same past days from a real-world shaped export as from the
tidy one: references by identifier and role resolve, and clinicians are counted by NPI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chartroute.backfill.run import index_encounters, load_source
from chartroute.config import load_config
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine
from tests.backfill.helpers import backfill, snapshot_values

START = date(2025, 1, 6)


@pytest.mark.parametrize("as_of_days", [40])
def test_both_flavours_reconstruct_the_same_days(tmp_path: Path, as_of_days: int) -> None:
    as_of = datetime.combine(START + timedelta(days=as_of_days), datetime.min.time(), UTC)
    last = START + timedelta(days=35)
    values = {}
    for flavour in ("synthetic", "real-world"):
        out = tmp_path / flavour
        profile = GeneratorProfile(
            providers=2, days=8, seed=7, start=START, encounters_per_provider_day=6,
            patients_per_provider=12, as_of=as_of, flavour=flavour,
        )  # fmt: skip
        generate_practice(out, profile)
        config = load_config(out / "practice.yaml")
        engine = make_engine(f"sqlite:///{tmp_path / flavour}.db")
        load_source(engine, NdjsonDirSource(out), as_of)
        index_encounters(engine, config.practice.timezone)
        backfill(engine, config, START, last)
        values[flavour] = snapshot_values(engine)
    synthetic, real = values["synthetic"], values["real-world"]
    assert synthetic
    # Every clinician's backlog is counted on a person of the roster in both: the real-world
    # export names them by NPI or role, and the backfill resolves them as routing does.
    for figures in (synthetic, real):
        people = {k[3] for k, v in figures.items() if k[2] == "person" and v}
        assert people and people <= {"clin-001", "clin-002"}, people
    # The days differ only while a visit's level of service is on its claim alone (as in
    # Synthea's exports) and the claim is not made yet; once every claim is in, they agree.
    settled = max(k[0] for k in synthetic)
    assert {k: v for k, v in real.items() if k[0] == settled} == {
        k: v for k, v in synthetic.items() if k[0] == settled
    }
