"""Turn a message's content into plain text, HTML, Slack Block Kit and a webhook payload.

Pure functions of ``MessageContent`` and the message key, so a retry renders byte for byte what
the first attempt did. Every format says the same things (counts by category, the top items by
priority with age and due date, deep links) and escapes what it inserts for its own syntax.
"""

from __future__ import annotations

import html
from typing import Any

from chartroute.notify.content import GROUP_LABELS, GROUP_ORDER, ItemLine, MessageContent

#: Slack's limits (https://docs.slack.dev/reference/block-kit/blocks): keep well inside them.
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_MAX_FIELDS = 10


def subject(content: MessageContent) -> str:
    """Email subject and notification fallback text."""
    return content.headline


def _summary_lines(content: MessageContent) -> list[str]:
    lines = [f"{content.counts[g]} {GROUP_LABELS[g]}" for g in GROUP_ORDER if content.counts.get(g)]
    lines.append(f"You have {content.open_total} open work items.")
    return lines


def _age(item: ItemLine) -> str:
    if item.age_days is None:
        return "age unknown"
    return "1 day old" if item.age_days == 1 else f"{item.age_days} days old"


def _due(item: ItemLine) -> str:
    return f"due {item.due}" if item.due else "no due date"


def _event(item: ItemLine) -> str:
    return "urgent, " + item.event if item.urgent else item.event


def _more(content: MessageContent) -> str:
    return (
        f"and {content.more} more: run `chartroute worklist --person {content.recipient}` "
        "for the full list."
    )


def text(content: MessageContent, key: str) -> str:
    """The plain-text body (email text part, file channel)."""
    lines = [f"chartroute - {content.practice}", "", *_summary_lines(content)]
    if content.by_category:
        lines += ["", "By category (new and escalated):"]
        lines += [f"  {cat}: {n}" for cat, n in content.by_category.items()]
    if content.by_age:
        lines += ["", "By age (days since the visit):"]
        lines += [f"  {age}: {n}" for age, n in content.by_age.items()]
    if content.items:
        lines += ["", "Top items by priority:" if content.kind == "digest" else "Item:"]
        for rank, item in enumerate(content.items, start=1):
            lines.append(
                f"  {rank}. {item.id}  {item.category}  {item.encounter}  {_age(item)}  "
                f"{_due(item)}  ({_event(item)})"
            )
            if item.link:
                lines.append(f"     {item.link}")
    if content.more:
        lines += ["", _more(content)]
    lines += ["", f"chartroute message {key} (as of {content.as_of})"]
    return "\n".join(lines) + "\n"


def html_body(content: MessageContent, key: str) -> str:
    """The HTML body (email HTML part, file channel)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>' + e(subject(content)) + "</title></head>",
        "<body>",
        f"<h2>chartroute &middot; {e(content.practice)}</h2>",
        "<p>" + "<br>".join(e(line) for line in _summary_lines(content)) + "</p>",
    ]
    if content.by_category:
        parts.append("<table><tr><th>category</th><th>items</th></tr>")
        parts += [f"<tr><td>{e(c)}</td><td>{n}</td></tr>" for c, n in content.by_category.items()]
        parts.append("</table>")
    if content.by_age:
        parts.append("<table><tr><th>age (days)</th><th>items</th></tr>")
        parts += [f"<tr><td>{e(a)}</td><td>{n}</td></tr>" for a, n in content.by_age.items()]
        parts.append("</table>")
    if content.items:
        parts.append(
            "<table><tr><th>#</th><th>work item</th><th>category</th><th>encounter</th>"
            "<th>age</th><th>due</th><th>event</th></tr>"
        )
        for rank, item in enumerate(content.items, start=1):
            encounter = e(item.encounter)
            if item.link:
                encounter = f'<a href="{e(item.link, quote=True)}">{encounter}</a>'
            parts.append(
                f"<tr><td>{rank}</td><td>{e(item.id)}</td><td>{e(item.category)}</td>"
                f"<td>{encounter}</td><td>{e(_age(item))}</td><td>{e(_due(item))}</td>"
                f"<td>{e(_event(item))}</td></tr>"
            )
        parts.append("</table>")
    if content.more:
        parts.append(f"<p>{e(_more(content))}</p>")
    parts.append(f"<p><small>chartroute message {e(key)} (as of {e(content.as_of)})</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def mrkdwn_escape(value: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe_url}|{mrkdwn_escape(label)}>"


def slack_blocks(
    content: MessageContent, key: str, mention: str | None = None
) -> list[dict[str, Any]]:
    """Block Kit blocks: header, summary, counts by category, one section per listed item."""
    m = mrkdwn_escape
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": subject(content)[:SLACK_HEADER_MAX]},
        }
    ]
    summary = "\n".join(m(line) for line in _summary_lines(content))
    if mention:
        summary = f"For <@{m(mention)}>\n" + summary
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": summary}})
    if content.by_category:
        fields = [
            {"type": "mrkdwn", "text": f"*{m(cat)}*\n{n}"}
            for cat, n in list(content.by_category.items())[:SLACK_MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    if content.by_age:
        ages = " · ".join(f"{m(age)} days: {n}" for age, n in content.by_age.items())
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ages}]})
    if content.items:
        blocks.append({"type": "divider"})
    room = SLACK_MAX_BLOCKS - len(blocks) - 2
    for item in content.items[:room]:
        encounter = _slack_link(item.link, item.encounter) if item.link else m(item.encounter)
        line = (
            f"{encounter} · *{m(item.category)}* · {m(_age(item))} · {m(_due(item))}\n"
            f"`{m(item.id)}` {m(_event(item))}"
        )
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": line[:SLACK_TEXT_MAX]}}
        )
    more = content.more + max(0, len(content.items) - room)
    footer = f"chartroute message {m(key)}"
    if more:
        footer = (
            f"and {more} more: `chartroute worklist --person {m(content.recipient)}` · " + footer
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return blocks


def webhook_payload(content: MessageContent, key: str) -> dict[str, Any]:
    """The JSON body of the generic webhook; ``text`` suits tools that show one line."""
    data = content.to_json()
    return {
        "id": key,
        "type": f"chartroute.{content.kind}",
        "text": subject(content),
        **{k: v for k, v in data.items() if k != "kind"},
        "kind": content.kind,
    }
