"""What a server says it can do: its CapabilityStatement and its SMART configuration.

Read once per connection. The CapabilityStatement tells the REST source which resource types
accept a ``_lastUpdated`` search (Oracle Health documents it for Encounter only; Epic not on
every type) so it can fall back to a date window instead of sending a parameter the server
would ignore or refuse; ``.well-known/smart-configuration`` names the token endpoint when the
practice's config does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chartroute.fhirclient.errors import Fatal, FhirClientError
from chartroute.fhirclient.http import FhirHttp

SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


@dataclass(frozen=True)
class Capability:
    """The parts of a CapabilityStatement the connector reads."""

    fhir_version: str | None = None
    search_params: dict[str, frozenset[str]] = field(default_factory=dict)  # type -> names
    common_params: frozenset[str] = frozenset()  # rest-level searchParam (apply to every type)
    history_types: frozenset[str] = frozenset()  # types with the history-type interaction
    operations: frozenset[str] = frozenset()  # system- and type-level operation names
    token_url: str | None = None

    def lists(self, resource_type: str) -> bool:
        """True when the statement describes this resource type at all."""
        return resource_type in self.search_params

    def supports_search(self, resource_type: str, param: str) -> bool | None:
        """Whether ``param`` is searchable on the type; None when the statement does not say."""
        if param in self.common_params:
            return True
        names = self.search_params.get(resource_type)
        if names is None:
            return None
        return param in names

    @classmethod
    def parse(cls, statement: Any) -> Capability:
        """Read a CapabilityStatement JSON object; tolerant of what vendors leave out."""
        if (
            not isinstance(statement, dict)
            or statement.get("resourceType") != "CapabilityStatement"
        ):
            raise Fatal("metadata: the server did not answer with a CapabilityStatement")
        params: dict[str, frozenset[str]] = {}
        history: set[str] = set()
        operations: set[str] = set()
        common: set[str] = set()
        token_url = None
        for rest in _list(statement.get("rest")):
            if rest.get("mode", "server") != "server":
                continue
            common.update(_names(rest.get("searchParam")))
            operations.update(_names(rest.get("operation")))
            token_url = token_url or _token_url(rest.get("security"))
            for resource in _list(rest.get("resource")):
                rtype = resource.get("type")
                if not isinstance(rtype, str):
                    continue
                params[rtype] = frozenset(_names(resource.get("searchParam")))
                codes = {i.get("code") for i in _list(resource.get("interaction"))}
                if "history-type" in codes:
                    history.add(rtype)
                operations.update(_names(resource.get("operation")))
        version = statement.get("fhirVersion")
        return cls(
            fhir_version=version if isinstance(version, str) else None,
            search_params=params,
            common_params=frozenset(common),
            history_types=frozenset(history),
            operations=frozenset(operations),
            token_url=token_url,
        )


def _list(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _names(value: object) -> set[str]:
    return {p["name"].lstrip("$") for p in _list(value) if isinstance(p.get("name"), str)}


def _token_url(security: object) -> str | None:
    if not isinstance(security, dict):
        return None
    for ext in _list(security.get("extension")):
        if ext.get("url") != SMART_OAUTH_URIS:
            continue
        for inner in _list(ext.get("extension")):
            if inner.get("url") == "token" and isinstance(inner.get("valueUri"), str):
                return str(inner["valueUri"])
    return None


def fetch_capability(http: FhirHttp) -> Capability:
    """GET [base]/metadata (unauthorized, as SMART servers allow) and parse it."""
    response = http.request("GET", http.url("metadata"), authorized=False)
    try:
        return Capability.parse(response.json())
    except ValueError:
        raise Fatal(f"{http.url('metadata')} did not answer with JSON") from None


def discover_token_url(http: FhirHttp) -> str:
    """The token endpoint from ``.well-known/smart-configuration``, else the CapabilityStatement."""
    try:
        response = http.request(
            "GET",
            http.url(".well-known/smart-configuration"),
            authorized=False,
            headers={"Accept": "application/json"},
        )
        document = response.json()
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        if isinstance(endpoint, str) and endpoint:
            return endpoint
    except (FhirClientError, ValueError):
        pass
    token_url = fetch_capability(http).token_url
    if token_url:
        return token_url
    raise Fatal(
        f"{http.base_url}: no token endpoint in .well-known/smart-configuration or the "
        "CapabilityStatement; set ehr.auth.token_url"
    )
