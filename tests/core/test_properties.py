"""Properties of classification over generated charts: deterministic, order-independent, no
closed chart printed, every blocker with evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.charts import FactIndex
from chartroute.classify import classify_chart
from chartroute.config import PracticeConfig, load_config
from chartroute.fhir.extract import extract_facts
from chartroute.preview import Preview, jsonl_records
from chartroute.route import Router
from tests import builders as b
from tests.conftest import ROOT

CONFIG = load_config(ROOT / "config" / "practice.yaml")
AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)


@st.composite
def chart_resources(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    eid = f"e{n}"
    enc_ref = f"Encounter/{eid}"
    out: list[dict[str, Any]] = [
        b.encounter(
            eid,
            status=draw(st.sampled_from(["finished", "in-progress", "planned", "cancelled"])),
            klass=draw(st.sampled_from(["AMB", "VR", "IMP"])),
            practitioner=draw(
                st.sampled_from(["Practitioner/prac-001", "Practitioner/prac-002", None])
            ),
            level=draw(st.sampled_from(["99213", None])),
            reason=draw(st.booleans()),
            diagnosis=draw(st.booleans()),
        )
    ]
    for i in range(draw(st.integers(0, 2))):
        out.append(
            b.note(
                f"n{n}-{i}",
                enc_ref,
                doc_status=draw(st.sampled_from(["final", "preliminary", None])),
            )
        )
    for i in range(draw(st.integers(0, 2))):
        sid = f"s{n}-{i}"
        out.append(
            b.order(
                sid,
                enc_ref,
                category=draw(st.sampled_from(["108252007", "363679005", "3457005"])),
                status=draw(st.sampled_from(["active", "completed", "draft"])),
            )
        )
        if draw(st.booleans()):
            out.append(
                b.report(
                    f"r{n}-{i}",
                    f"ServiceRequest/{sid}",
                    status=draw(st.sampled_from(["final", "preliminary"])),
                )
            )
    if draw(st.booleans()):
        out.append(b.claim(f"c{n}", enc_ref))
        if draw(st.booleans()):
            out.append(
                b.claim_response(
                    f"cr{n}", f"Claim/c{n}", outcome=draw(st.sampled_from(["complete", "queued"]))
                )
            )
    if draw(st.booleans()):
        out.append(
            b.task(f"t{n}", enc_ref, status=draw(st.sampled_from(["requested", "completed"])))
        )
    return out


@st.composite
def practices(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    resources: list[dict[str, Any]] = []
    for n in range(count):
        resources.extend(draw(chart_resources(n)))
    return resources


def classify_all(
    resources: list[dict[str, Any]], config: PracticeConfig = CONFIG
) -> list[dict[str, object]]:
    index = FactIndex()
    for r in resources:
        for f in extract_facts(r):
            index.add(f)
    result = Preview()
    router = Router(config, AS_OF)
    for chart in index.charts():
        verdict = classify_chart(chart, config.charts, config.documentation, AS_OF)
        if verdict.is_open:
            result.charts.append((verdict.encounter, router.route(verdict)))
    return list(jsonl_records(result))


@settings(max_examples=60, deadline=None)
@given(practices(), st.randoms(use_true_random=False))
def test_classification_is_deterministic_and_order_independent(
    resources: list[dict[str, Any]], rnd: Any
) -> None:
    first = classify_all(resources)
    shuffled = list(resources)
    rnd.shuffle(shuffled)
    assert classify_all(shuffled) == first
    assert classify_all(resources) == first


@settings(max_examples=60, deadline=None)
@given(practices())
def test_printed_charts_are_open_and_every_blocker_has_evidence(
    resources: list[dict[str, Any]],
) -> None:
    records = classify_all(resources)
    encounters = [r["encounter"] for r in records]
    assert encounters == sorted(encounters)
    for record in records:
        blockers = record["blockers"]
        assert blockers, "a chart with no blocker was printed"
        assert [x["category"] for x in blockers] == sorted(x["category"] for x in blockers)  # type: ignore[index]
        for blocker in blockers:  # type: ignore[attr-defined]
            assert blocker["evidence"], blocker
            assert all("/" in e for e in blocker["evidence"])
