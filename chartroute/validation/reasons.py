"""Group quarantine reasons into labels for counts: the field and the kind of problem.

Structural reasons may quote what was found (``period.start: not a FHIR dateTime: '2026-x'``);
counts and artifacts must carry no record content and should group like with like, so a label
keeps the field (array positions dropped) and the problem, with every quoted value replaced.
"""

from __future__ import annotations

import re

_VALUE = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')
_QUOTE = re.compile(r"""['"]""")
_INDEX = re.compile(r"\[\d+\]")
_POSITION = re.compile(r"\s*(line \d+|column \d+|\(char \d+\)).*$")
_CONTAINED = re.compile(r"^contained #[^:]*:\s*")


def reason_label(reason: str) -> str:
    """``period.start: not a FHIR dateTime: '2026-x'`` -> ``period.start: not a FHIR dateTime``."""
    prefix = ""
    if _CONTAINED.match(reason):
        prefix, reason = "contained: ", _CONTAINED.sub("", reason)
    text = _QUOTE.split(_VALUE.sub("a value", reason), maxsplit=1)[0]
    text = _INDEX.sub("[]", text)
    parts = [p.strip() for p in text.split(": ")]
    label = ": ".join(p for p in parts[:2] if p)
    label = _POSITION.sub("", label).rstrip(":, ")
    return prefix + (label or "unreadable")
