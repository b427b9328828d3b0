"""Explain a quarantined record against the FHIR R4 specification itself.

chartroute's own checks read only the fields the rules need; an engineer fixing a record at the
source wants to know everything the specification says is wrong with it. fhir.resources' R4B
models (R4B changed nothing in the resources chartroute reads; the package's default models
are R5 and reject R4 JSON) give that, at 50 to 100 times the cost of decoding, which is why only
this command pays it. Messages name the element and the rule, never the value found.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError


def spec_errors(raw: bytes) -> list[str]:
    """Every error the R4B model of the record's type reports; empty when it validates."""
    try:
        resource: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(resource, dict):
        return ["not a JSON object"]
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return ["resourceType: missing"]
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(rtype)
    except (ValueError, KeyError):
        return [f"resourceType: {rtype[:64]!r} is not a FHIR R4 resource type"]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [_describe(error) for error in exc.errors(include_input=False, include_url=False)]
    return []


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or "(resource)"
    message = str(error.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{where}: {message}"
