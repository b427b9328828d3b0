"""Rendering: every format escapes what it inserts and stays inside Slack's Block Kit limits."""

from __future__ import annotations

import html
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.notify import render
from chartroute.notify.content import ItemLine, MessageContent, deep_link
from tests.notify.servers import block_kit_problems

text = st.text(min_size=1, max_size=40)
items = st.builds(
    ItemLine,
    id=st.from_regex(r"wi-[0-9a-f]{20}", fullmatch=True),
    event=st.sampled_from(["opened", "reopened", "reassigned", "escalated", "closed"]),
    category=text,
    encounter=st.builds(lambda s: f"Encounter/{s}", text),
    link=st.none() | st.builds(lambda s: f"https://ehr.example.org/{s}", text),
    age_days=st.none() | st.integers(0, 5000),
    due=st.none() | st.dates().map(lambda d: d.isoformat()),
    urgent=st.booleans(),
)
contents = st.builds(
    MessageContent,
    kind=st.sampled_from(["digest", "immediate"]),
    practice=text,
    recipient=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    as_of=st.just("2026-03-10T12:00:00+00:00"),
    counts=st.fixed_dictionaries({"new": st.integers(0, 500), "closed": st.integers(0, 50)}),
    by_category=st.dictionaries(text, st.integers(1, 99), max_size=14),
    open_total=st.integers(0, 10_000),
    items=st.lists(items, max_size=40).map(tuple),
    more=st.integers(0, 1000),
)


@settings(max_examples=150, deadline=None)
@given(contents)
def test_slack_blocks_are_always_valid_block_kit(content: MessageContent) -> None:
    blocks = render.slack_blocks(content, "mkey", mention="U123")
    assert block_kit_problems(blocks) == []
    mrkdwn = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    for block_text in mrkdwn:  # every '<' is one of ours: a link or a mention
        assert all(chunk.startswith(("http", "@U123")) for chunk in block_text.split("<")[1:])
    listed = sum(
        1 for b in blocks if b["type"] == "section" and "`wi-" in b.get("text", {}).get("text", "")
    )
    footer = blocks[-1]["elements"][0]["text"]
    hidden = len(content.items) - listed + content.more
    assert listed <= len(content.items) and (hidden == 0 or f"and {hidden} more" in footer)


@settings(max_examples=150, deadline=None)
@given(contents)
def test_html_escapes_every_value_it_shows(content: MessageContent) -> None:
    body = render.html_body(content, "mkey")
    for item in content.items:
        assert html.escape(item.category) in body
        assert html.escape(item.encounter) in body
        if item.link:
            assert f'href="{html.escape(item.link, quote=True)}"' in body
    tags = {t.split(">")[0].split()[0] for t in body.split("<")[1:]}
    names = "html head meta title body h2 p br table tr th td a small"
    allowed = {"!DOCTYPE", *names.split(), *(f"/{n}" for n in names.split())}
    assert tags <= allowed


@settings(max_examples=100, deadline=None)
@given(contents)
def test_text_and_payload_say_the_same_things(content: MessageContent) -> None:
    body = render.text(content, "mkey")
    payload = render.webhook_payload(content, "mkey")
    assert json.loads(json.dumps(payload)) == payload
    assert (
        MessageContent.from_json(
            {k: v for k, v in payload.items() if k not in ("id", "type", "text")}
        )
        == content
    )
    for item in content.items:
        assert item.id in body and item.encounter in body
        assert (f"due {item.due}" if item.due else "no due date") in body
    assert "chartroute message mkey" in body
    assert render.subject(content) == payload["text"]


@given(st.text(max_size=30))
def test_deep_link_quotes_the_encounter_id(encounter_id: str) -> None:
    link = deep_link(
        "https://ehr.example.org/chart/{encounter_id}?tab=notes", f"Encounter/{encounter_id}"
    )
    assert link is not None and link.endswith("?tab=notes")
    inserted = link[len("https://ehr.example.org/chart/") : -len("?tab=notes")]
    assert all(c.isalnum() or c in "%-._~" for c in inserted)
    assert deep_link(None, "Encounter/x") is None


def test_digest_headline_lists_the_groups() -> None:
    content = MessageContent("digest", "P", "dr-a", "t", counts={"new": 3, "closed": 1})
    assert content.headline == "chartroute: 3 new or reassigned to you; 1 closed"
    urgent = MessageContent(
        "immediate",
        "P",
        "dr-a",
        "t",
        items=(ItemLine("wi-1", "opened", "pending-result", "Encounter/e", None, 2, None, True),),
    )
    assert urgent.headline == "chartroute: urgent pending-result work item wi-1"
