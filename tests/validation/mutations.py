"""Mutated feeds as a tester writes them: the families of issue 18, drawn from a seeded random.

One module for the bounded hypothesis test in the suite and the long run in ``bench/fuzz``:
``mutated_feed(rng, size)`` returns the files of one feed (name -> bytes) built from valid
charts with a share of their records broken in one of the ``RECORD_FAMILIES`` and the files
themselves touched by the ``FILE_FAMILIES`` (a byte order mark, CRLF line ends, blank lines, a
misnamed file, a lone non-rule resource).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests import builders as b

Resource = dict[str, Any]

#: Values a tester puts where a date belongs.
BAD_DATES = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:30:00-05:00",
    "9999-12-31T23:59:59.999999-14:00",
    "20260105",
    "2026-01-05 08:31:00",
    "2026-01-05T08",
    "2026-01-05T08:31:00.123456789Z",
    "2026-01-05T08:31:00",
    "2026-02-30",
    "2026-13-01",
    "0000",
    "-2026-01-05",
    "2026-01-05T24:00:00Z",
    "2026-01-05T08:31:00+14:30",
    "",
    "yesterday",
    "2026-01-05T08:31:00Z\n",
]
#: References a tester sends (only "no crash, nothing silently dropped" is asserted of them).
BAD_REFERENCES = [
    "Encounter/",
    "/Encounter",
    "Patient/../../etc/passwd",
    "#nope",
    "#",
    "'; DROP TABLE fact; --",
    "Encounter/e1' OR '1'='1",
    "http://evil.example/fhir/Encounter/e1",
    "urn:uuid:not-in-this-bundle",
    "Encounter/e1/_history/",
    "E" * 300 + "/x",
    "Encounter/" + "x" * 300,
    "Encounter/e1\n",
    "",
]
ODD_TEXT = [
    "\u0000",
    "\u202eevil",
    "\ud83d\ude00",
    "e\u0301",
    "\ufeffe1",
    "\u2028",
    "MRN00001062 Peregrin Ravensworth",
    "enc-000001\n",
    "x" * 65,
    " e1",
]
WRONG_TYPES: list[object] = [None, 0, -1, 1.5, True, "", "x", [], [1], {}, {"a": 1}]
RESOURCE_TYPES_WRONG = ["Encounterx", "Encounter ", "encounter", "Patient", "Condition", ""]


@dataclass
class Feed:
    """A feed's files, and what was done to them (for the runner's report, never asserted)."""

    files: dict[str, bytes] = field(default_factory=dict)
    families: dict[str, int] = field(default_factory=dict)
    misnamed: list[str] = field(default_factory=list)

    def count(self, family: str) -> None:
        self.families[family] = self.families.get(family, 0) + 1


def _chart(rng: random.Random, n: int) -> list[Resource]:
    """One visit and the documents around it, valid as written."""
    enc = f"e{n}"
    ref = f"Encounter/{enc}"
    out: list[Resource] = [
        b.encounter(enc, status=rng.choice(["finished", "in-progress", "planned"])),
        b.note(f"n{n}", ref, doc_status=rng.choice(["final", "preliminary"])),
        b.order(f"s{n}", ref),
        b.report(f"r{n}", f"ServiceRequest/s{n}", status=rng.choice(["final", "preliminary"])),
        b.claim(f"c{n}", ref) if rng.random() < 0.5 else b.task(f"t{n}", ref),
        b.claim_response(f"cr{n}", f"Claim/c{n}", outcome=rng.choice(["complete", "queued"])),
        b.condition(f"cd{n}", ref),
        b.form(f"q{n}", "http://example.org/Questionnaire/intake", ref),
    ]
    if rng.random() < 0.3:
        out.append(b.composition(f"comp{n}", ref))
    return out


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a resource (keys and indices), for picking a field to break."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            out.append((*prefix, key))
            out.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(inner, (*prefix, i)))
    return out


def _set(resource: Resource, path: tuple[Any, ...], value: object) -> None:
    target: Any = resource
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _pick(rng: random.Random, resource: Resource, last: set[str] | None = None) -> tuple[Any, ...]:
    paths = [p for p in _paths(resource) if p[0] not in ("resourceType", "id")]
    if last is not None:
        paths = [p for p in paths if isinstance(p[-1], str) and p[-1] in last] or paths
    return rng.choice(paths)


def wrong_type(rng: random.Random, r: Resource) -> Resource:
    _set(r, _pick(rng, r), copy.deepcopy(rng.choice(WRONG_TYPES)))
    return r


def huge(rng: random.Random, r: Resource) -> Resource:
    size = rng.choice([65, 100, 201, 300, 5_000, 200_000])
    where = rng.choice(["id", "versionId", "status", "field", "array"])
    if where == "id":
        r["id"] = "h" * size
    elif where == "versionId":
        r["meta"] = {"versionId": "7" * size}
    elif where == "array":
        r["extension"] = [{"url": "http://x", "valueString": "v"}] * min(size, 20_000)
    elif where == "status":
        r["status"] = "s" * size
    else:
        _set(r, _pick(rng, r), "v" * size)
    return r


def deep(rng: random.Random, r: Resource) -> Resource:
    depth = rng.choice([50, 500, 1_100, 3_000])
    value: object = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    r[rng.choice(["extension", "status", "period", "contained"])] = value
    return r


def odd_unicode(rng: random.Random, r: Resource) -> Resource:
    text = rng.choice(ODD_TEXT)
    where = rng.choice(["id", "status", "field", "contained"])
    if where == "id":
        r["id"] = text if rng.random() < 0.5 else r["id"] + text
    elif where == "status":
        r["status"] = text
    elif where == "contained":
        r["contained"] = [b.condition(text or "c", "#")]
    else:
        _set(r, _pick(rng, r), text)
    return r


def bad_date(rng: random.Random, r: Resource) -> Resource:
    value = rng.choice(BAD_DATES)
    dated = {"start", "end", "date", "issued", "created", "authoredOn", "time", "lastUpdated"}
    if rng.random() < 0.4:
        r["meta"] = {"lastUpdated": value}
    else:
        _set(r, _pick(rng, r, dated), value)
    return r


def broken_reference(rng: random.Random, r: Resource) -> Resource:
    refs = [p for p in _paths(r) if p[-1] == "reference"]
    value = rng.choice(BAD_REFERENCES)
    if refs:
        _set(r, rng.choice(refs), value)
    else:
        r["encounter"] = {"reference": value}
    return r


def other_resource_type(rng: random.Random, r: Resource) -> Resource:
    r["resourceType"] = rng.choice(RESOURCE_TYPES_WRONG)
    return r


RECORD_FAMILIES: dict[str, Callable[[random.Random, Resource], Resource]] = {
    "wrong-type": wrong_type,
    "huge": huge,
    "deep": deep,
    "odd-unicode": odd_unicode,
    "bad-date": bad_date,
    "broken-reference": broken_reference,
    "other-resource-type": other_resource_type,
}
#: Families applied to a record's bytes or to the feed rather than to one decoded record.
TEXT_FAMILIES = ("truncated", "conflicting-duplicate", "identical-duplicate")
FILE_FAMILIES = ("bom", "crlf", "blank-lines", "misnamed-file", "lone-other-type")
MISNAMED = ["Encounters.ndjson", "encounter.ndjson", "Foo.ndjson", "Encounter.ndjson.bak"]


def _dump(resource: Resource) -> bytes:
    try:
        return orjson.dumps(resource)
    except orjson.JSONEncodeError:  # a lone surrogate, or too deep for the encoder
        pass
    try:
        return json.dumps(resource).encode()  # \\u escapes carry lone surrogates
    except RecursionError:
        return _dump_deep(resource).encode()


def _dump_deep(value: object) -> str:
    # iterative: depth beyond Python's recursion limit is the point of the family
    out: list[str] = []
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item.text)
        elif isinstance(item, dict):
            stack.append(_Raw("}"))
            for i, (key, inner) in enumerate(reversed(list(item.items()))):
                stack.append(inner)
                stack.append(_Raw(json.dumps(key) + ":"))
                if i:
                    stack.append(_Raw(","))
            stack.append(_Raw("{"))
        elif isinstance(item, list):
            stack.append(_Raw("]"))
            for i, inner in enumerate(reversed(item)):
                stack.append(inner)
                if i:
                    stack.append(_Raw(","))
            stack.append(_Raw("["))
        else:
            out.append(json.dumps(item))
    return "".join(out)


class _Raw:
    def __init__(self, text: str):
        self.text = text


def mutated_feed(rng: random.Random, size: int, bad_share: float = 0.3) -> Feed:
    """About ``size`` records across the rule types' files, ``bad_share`` of them broken."""
    feed = Feed()
    lines: dict[str, list[bytes]] = {}
    n = 0
    count = 0
    while count < size:
        n += 1
        for resource in _chart(rng, n):
            rtype = resource["resourceType"]
            name = (
                f"{rtype}.ndjson" if rng.random() < 0.8 else f"{rtype}.{rng.randint(1, 3)}.ndjson"
            )
            text = _mutated_record(rng, feed, resource, bad_share)
            for line in text:
                lines.setdefault(name, []).append(line)
                count += 1
    for name, content in lines.items():
        feed.files[name] = b"\n".join(content) + b"\n"
    _touch_files(rng, feed)
    return feed


def _mutated_record(
    rng: random.Random, feed: Feed, resource: Resource, bad_share: float
) -> list[bytes]:
    if rng.random() >= bad_share:
        return [_dump(resource)]
    families = list(RECORD_FAMILIES) + list(TEXT_FAMILIES)
    family = rng.choice(families)
    feed.count(family)
    if family == "truncated":
        text = _dump(resource)
        return [text[: rng.randrange(1, len(text))]]
    if family == "identical-duplicate":
        return [_dump(resource)] * 2
    if family == "conflicting-duplicate":
        other = copy.deepcopy(resource)
        other["text"] = {"status": "generated", "div": f"<div>{rng.random()}</div>"}
        pair = [_dump(resource), _dump(other)]
        rng.shuffle(pair)
        return pair
    return [_dump(RECORD_FAMILIES[family](rng, copy.deepcopy(resource)))]


def _touch_files(rng: random.Random, feed: Feed) -> None:
    names = sorted(feed.files)
    for family in FILE_FAMILIES:
        if rng.random() >= 0.3:
            continue
        feed.count(family)
        name = rng.choice(names)
        if family == "bom":
            feed.files[name] = b"\xef\xbb\xbf" + feed.files[name]
        elif family == "crlf":
            feed.files[name] = feed.files[name].replace(b"\n", b"\r\n")
        elif family == "blank-lines":
            feed.files[name] = feed.files[name].replace(b"\n", b"\n  \n", 3)
        elif family == "misnamed-file":
            misnamed = rng.choice(MISNAMED)
            if misnamed not in feed.files:
                feed.files[misnamed] = _dump(b.encounter(f"misnamed{rng.randint(1, 9)}")) + b"\n"
                feed.misnamed.append(misnamed)
        else:
            patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ravensworth"}]}
            feed.files["patient-export.json"] = _dump(patient)
