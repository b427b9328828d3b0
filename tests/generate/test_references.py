"""Every reference points at a resource in the output, for any small practice."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartroute.generate import GeneratorProfile, generate_practice

from .ndjson_helpers import instant, read_all, references


def _check_practice(out_dir: Path, as_of: datetime) -> None:
    data = read_all(out_dir)
    present = {f"{t}/{r['id']}" for t, rs in data.items() for r in rs}
    for resource_type, resources in data.items():
        for resource in resources:
            for target in references(resource):
                assert target in present, f"{resource_type}/{resource['id']} -> {target}"
            assert instant(resource["meta"]["lastUpdated"]) <= as_of
    for encounter in data.get("Encounter", []):
        assert instant(encounter["period"]["start"]) <= as_of


def test_default_practice_references_resolve(default_dir: Path) -> None:
    import orjson

    manifest = orjson.loads((default_dir / "generator.json").read_bytes())
    _check_practice(default_dir, datetime.fromisoformat(manifest["as_of"]))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    providers=st.integers(1, 3),
    days=st.integers(1, 4),
    per_day=st.integers(1, 8),
    seed=st.integers(-(2**31), 2**31),
    hours_after_start=st.integers(-12, 24 * 8),
    busy=st.floats(0.0, 1.0),
)
def test_any_small_practice_has_resolvable_references(
    providers: int, days: int, per_day: int, seed: int, hours_after_start: int, busy: float
) -> None:
    profile = GeneratorProfile(
        providers=providers,
        days=days,
        encounters_per_provider_day=per_day,
        seed=seed,
        patients_per_provider=12,
        as_of=datetime(2026, 1, 5, 8) + timedelta(hours=hours_after_start),
        order_share=busy,
        referral_share=busy,
        prior_auth_share=busy,
        coder_query_share=busy,
        non_chart_share=busy / 4,
        note_entered_in_error_share=busy,
        coder_query_note_focus_share=busy,
    )
    with tempfile.TemporaryDirectory() as folder:
        summary = generate_practice(Path(folder), profile)
        _check_practice(Path(folder), summary.as_of)
