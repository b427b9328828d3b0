"""Reading generated output back, and a minimal reading of the classification contract.

The blocker check here is deliberately independent of chartroute's classifier: it restates
DESIGN.md's evidence table in a few lines, so generator tests do not depend on (or excuse) the
classifier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

Resource = dict[str, Any]

CHART_STATUSES = {"finished", "in-progress", "onleave"}
CHART_CLASSES = {"AMB", "VR", "HH"}
CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
WELL_CHILD_QUESTIONNAIRE = "http://example.org/fhir/Questionnaire/well-child-screening"


def read(out_dir: Path, resource_type: str) -> list[Resource]:
    """All resources of one type (empty if the type has no file)."""
    path = out_dir / f"{resource_type}.ndjson"
    if not path.exists():
        return []
    with path.open("rb") as handle:
        return [orjson.loads(line) for line in handle]


def read_all(out_dir: Path) -> dict[str, list[Resource]]:
    """Every resource, by type."""
    return {path.stem: read(out_dir, path.stem) for path in sorted(out_dir.glob("*.ndjson"))}


def references(value: Any) -> Iterator[str]:
    """Every ``reference`` string anywhere inside a resource."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def instant(text: str) -> datetime:
    """Parse a FHIR instant written with an offset."""
    return datetime.fromisoformat(text)


def _id(reference: dict[str, str]) -> str:
    return reference["reference"].split("/", 1)[1]


def _codes(concepts: list[Resource]) -> set[tuple[str, str]]:
    return {
        (c.get("system", ""), c.get("code", "")) for cc in concepts for c in cc.get("coding", [])
    }


def blockers(out_dir: Path) -> dict[str, dict[str, set[str]]]:
    """Blocker category -> encounter id -> subjects, read straight from DESIGN.md's table."""
    data = read_all(out_dir)
    live = {t: [r for r in rs if r.get("status") != "entered-in-error"] for t, rs in data.items()}
    charts = {
        e["id"]: e
        for e in live.get("Encounter", [])
        if e["status"] in CHART_STATUSES and e["class"]["code"] in CHART_CLASSES
    }
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    signed: set[str] = set()
    letters: set[str] = set()
    for doc in live.get("DocumentReference", []):
        loinc = _codes([doc["type"]])
        for enc in doc.get("context", {}).get("encounter", []):
            if ("http://loinc.org", "57133-1") in loinc:
                letters.add(_id(enc))
            elif doc.get("docStatus", "final") in ("final", "amended"):
                signed.add(_id(enc))
    for enc_id in charts:
        if enc_id not in signed:
            found["unsigned-note"][enc_id].add("note")

    final_reports = {
        _id(b)
        for r in live.get("DiagnosticReport", [])
        if r["status"] in ("final", "amended", "corrected", "appended")
        for b in r.get("basedOn", [])
    }
    for sr in live.get("ServiceRequest", []):
        enc_id = _id(sr["encounter"])
        if enc_id not in charts:
            continue
        category = {code for _, code in _codes(sr.get("category", []))}
        if (
            category & {"108252007", "363679005"}
            and sr["status"] in ("active", "on-hold")
            and sr["id"] not in final_reports
        ):
            found["pending-result"][enc_id].add(sr["id"])
        if (
            "3457005" in category
            and sr["status"] in ("draft", "active", "on-hold")
            and enc_id not in letters
        ):
            found["awaiting-referral-auth"][enc_id].add(sr["id"])

    answers = {_id(cr["request"]): cr["outcome"] for cr in live.get("ClaimResponse", [])}
    for claim in live.get("Claim", []):
        if claim["use"] != "preauthorization":
            continue
        for item in claim["item"]:
            for enc in item.get("encounter", []):
                if _id(enc) in charts and answers.get(claim["id"]) in (None, "queued", "partial"):
                    found["awaiting-referral-auth"][_id(enc)].add(claim["id"])

    note_encounter = {
        doc["id"]: _id(enc)
        for doc in live.get("DocumentReference", [])
        for enc in doc.get("context", {}).get("encounter", [])
    }
    open_task = {"requested", "received", "accepted", "in-progress", "on-hold"}
    for task in live.get("Task", []):
        if "coding-query" not in {code for _, code in _codes([task["code"]])}:
            continue
        target = task["focus"]["reference"]
        kind, target_id = target.split("/", 1)
        enc_id = target_id if kind == "Encounter" else note_encounter.get(target_id, "")
        if enc_id in charts and task["status"] in open_task:
            found["coding-query"][enc_id].add(task["id"])

    diagnosed = {_id(c["encounter"]) for c in live.get("Condition", []) if "encounter" in c}
    forms = {_id(q["encounter"]) for q in live.get("QuestionnaireResponse", [])}
    billed = {
        _id(enc)
        for claim in live.get("Claim", [])
        for item in claim["item"]
        if any(system == CPT for system, _ in _codes([item["productOrService"]]))
        and claim["use"] == "claim"
        for enc in item.get("encounter", [])
    }
    for enc_id, enc in charts.items():
        types = _codes(enc.get("type", []))
        gaps = found["documentation-gap"]
        follow_up = (SNOMED, "390906007") in types
        if not follow_up and not enc.get("reasonCode") and not enc.get("reasonReference"):
            gaps[enc_id].add("chief-complaint")
        if not enc.get("diagnosis") and enc_id not in diagnosed:
            gaps[enc_id].add("diagnosis")
        level = any(s == CPT and "99202" <= c <= "99215" for s, c in types)
        if not level and enc_id not in billed:
            gaps[enc_id].add("level-of-service")
        if not any("individual" in p for p in enc.get("participant", [])):
            gaps[enc_id].add("rendering-clinician")
        if (SNOMED, "410620009") in types and enc_id not in forms:
            gaps[enc_id].add("forms")
    return {category: dict(by_encounter) for category, by_encounter in found.items()}
