"""The page every report of chartroute is drawn on: one self-contained HTML file.

It opens from a shared drive or an email attachment on a machine with no network: styles are
inline, there is no script, and a Content-Security-Policy forbids the page from loading
anything at all, so a mistake that tried to would show as a blocked request rather than a
silent call out. The management report (``html.py``), the simulation's report and the review
sheet are all drawn on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       margin: 0; background: #f5f6f8; }
header { background: #16324f; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; }
main { max-width: 1120px; margin: 0 auto; padding: 18px 28px 40px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.card { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 2px #0002; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #5b6472; }
.card .value { font-size: 26px; font-weight: 650; margin: 2px 0; }
.card .detail { font-size: 12px; color: #5b6472; }
section { background: #fff; border-radius: 8px; padding: 14px 18px; margin-top: 16px;
          box-shadow: 0 1px 2px #0002; }
section h2 { font-size: 17px; margin: 0 0 4px; }
section p.why { margin: 0 0 8px; color: #5b6472; font-size: 13px; }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: #3a4250; }
svg text.legend { font-size: 12px; }
svg text.value { font-size: 11px; fill: #1d2330; }
svg text.ref { font-size: 11px; fill: #6b7280; }
p.empty { font-size: 14px; color: #6b7280; border-left: 3px solid #d1d5db; padding-left: 8px; }
table { border-collapse: collapse; margin-top: 8px; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e6ea; text-align: right; }
th:first-child, td:first-child { text-align: left; }
footer { color: #5b6472; font-size: 12px; margin-top: 20px; }
footer dt { font-weight: 600; margin-top: 6px; }
footer dd { margin: 0 0 0 0; }
"""


def section(anchor: str, title: str, why: str, body: str) -> str:
    """A titled block with its one-line reason for being on the page (escaped; ``body`` is HTML)."""
    return (
        f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>'
        f'<p class="why">{escape(why)}</p>{body}</section>'
    )


def data_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain table of text cells, every cell escaped: pages share it so none forgets to."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(
    title: str,
    subtitle_html: str,
    cards_html: str,
    sections: Sequence[str],
    glossary: Sequence[tuple[str, str]],
    extra_style: str = "",
) -> str:
    """One self-contained page in the report's style: the CSP, the header, cards, sections and
    a glossary footer. ``subtitle_html``, the cards, sections and glossary texts are HTML the
    caller escaped; the title is escaped here."""
    terms = "\n".join(f"<dt>{escape(term)}</dt><dd>{text}</dd>" for term, text in glossary)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}{extra_style}</style>
</head>
<body>
<header>
<h1>{escape(title)}</h1>
<p>{subtitle_html}</p>
</header>
<main>
<div class="cards">{cards_html}</div>
{"".join(sections)}
<footer><dl>
{terms}
</dl></footer>
</main>
</body>
</html>
"""
