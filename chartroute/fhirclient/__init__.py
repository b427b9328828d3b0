"""A small FHIR R4 client for EHRs: auth, a retrying rate-limited HTTP layer, typed errors.

Modules, one idea each: ``errors`` (Temporary vs Fatal), ``retry`` (backoff with jitter),
``ratelimit``, ``auth`` (SMART Backend Services, bearer, basic), ``http`` (the one door to the
server), ``search`` (paging), ``capability`` (what the server supports), ``connect`` (build
it all from the practice's ``ehr:`` config).
"""

from chartroute.fhirclient.errors import AuthorizationFailed, Fatal, FhirClientError, Temporary
from chartroute.fhirclient.http import FhirHttp

__all__ = ["AuthorizationFailed", "Fatal", "FhirClientError", "FhirHttp", "Temporary"]
