"""A small FHIR R4 client for EHRs: auth, a retrying rate-limited HTTP layer, typed errors.

Modules, one idea each: ``errors`` (Temporary vs Fatal), ``retry`` (backoff with jitter),
``ratelimit``, ``auth`` (SMART Backend Services, bearer, basic), ``http`` (the one door to the
server), ``search`` (paging), ``capability`` (what the server supports), ``connect`` (build
it all from the practice's ``ehr:`` config).

``FhirHttp`` is imported on first use: every command names these error types (the exit codes,
the retry rules), and importing the HTTP layer with them would cost each one httpx and the JWT
signer at start-up, ~0.2 s, whether it talks to an EHR or reads a folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chartroute.fhirclient.errors import AuthorizationFailed, Fatal, FhirClientError, Temporary

if TYPE_CHECKING:
    from chartroute.fhirclient.http import FhirHttp

__all__ = ["AuthorizationFailed", "Fatal", "FhirClientError", "FhirHttp", "Temporary"]


def __getattr__(name: str) -> Any:
    if name == "FhirHttp":
        from chartroute.fhirclient.http import FhirHttp

        return FhirHttp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
