"""Open a ``FhirHttp`` to the EHR a practice's ``ehr:`` config describes.

This is where configuration meets secrets: the private key, token or password is read here
(from a file, the environment or a Prefect Secret block through the injected loader) and
handed to the auth object, never stored anywhere else.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from chartroute.config.ehr import BlockLoader, Ehr, SecretUnavailable
from chartroute.fhirclient.auth import (
    Auth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    SmartBackendAuth,
    load_signing_key,
)
from chartroute.fhirclient.capability import discover_token_url
from chartroute.fhirclient.errors import Fatal, UnusableKey
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.ratelimit import RateLimiter
from chartroute.fhirclient.retry import RetryPolicy


def connect(
    ehr: Ehr,
    blocks: BlockLoader | None = None,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> FhirHttp:
    """An authorized, rate-limited client for the EHR (the token is fetched on first use)."""
    profile = ehr.resolved_profile()
    client_id = ehr.auth.client_id or ""
    headers = {
        name: value.replace("{client_id}", client_id) for name, value in profile.headers.items()
    }
    policy = retry or RetryPolicy(retry_after_cap=profile.retry_after_cap_seconds)
    http = FhirHttp(
        ehr.base_url,
        limiter=RateLimiter(profile.requests_per_second, profile.concurrency),
        retry=policy,
        headers=headers,
        timeout=ehr.timeout_seconds,
        rebase_links=profile.rebase_links,
        transport=transport,
    )
    try:
        http.auth = _auth(ehr, http, blocks, policy)
    except SecretUnavailable as exc:
        http.close()
        raise Fatal(f"ehr.auth: {exc}") from None
    except BaseException:
        http.close()
        raise
    return http


def _auth(ehr: Ehr, http: FhirHttp, blocks: BlockLoader | None, policy: RetryPolicy) -> Auth:
    settings = ehr.auth
    if settings.kind == "bearer":
        assert settings.token is not None
        return BearerAuth(settings.token.resolve(blocks))
    if settings.kind == "basic":
        assert settings.username is not None and settings.password is not None
        return BasicAuth(settings.username, settings.password.resolve(blocks))
    if settings.kind == "smart-backend":
        assert settings.client_id is not None
        key_text = _key_text(ehr, blocks)
        key = load_signing_key(key_text, kid=settings.key_id, algorithm=settings.algorithm)
        token_url = settings.token_url or discover_token_url(http)
        return SmartBackendAuth(
            client_id=settings.client_id,
            token_url=token_url,
            key=key,
            scopes=ehr.scopes(),
            client=http.client,
            retry=policy,
            token_400_is_temporary=ehr.resolved_profile().token_400_is_temporary,
            jku=settings.jku,
        )
    return NoAuth()


def _key_text(ehr: Ehr, blocks: BlockLoader | None) -> str:
    settings = ehr.auth
    if settings.private_key is not None:
        return settings.private_key.resolve(blocks)
    assert settings.private_key_file is not None
    path = Path(settings.private_key_file).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UnusableKey(
            f"ehr.auth.private_key_file: cannot read {path}: {exc.strerror}"
        ) from None
