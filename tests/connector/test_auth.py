"""SMART Backend Services: keys, assertions, token caching, early renewal, one refresh at a time."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec

from chartroute.fhirclient.auth import (
    ASSERTION_TYPE,
    SmartBackendAuth,
    jwk_thumbprint,
    load_signing_key,
    refresh_margin,
)
from chartroute.fhirclient.errors import AuthorizationFailed, Fatal
from chartroute.fhirclient.retry import RetryPolicy
from tests.connector.keys import make_key

TOKEN_URL = "https://auth.test/token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def smart(clock: Clock | None = None, **kwargs: object) -> tuple[SmartBackendAuth, object]:
    pair = make_key("rsa", "k1")
    key = load_signing_key(pair.private_jwks())
    auth = SmartBackendAuth(
        client_id="client-1",
        token_url=TOKEN_URL,
        key=key,
        scopes=["system/*.rs"],
        client=httpx.Client(),
        retry=RetryPolicy(attempts=3, base_delay=0.001, sleep=lambda s: None),
        clock=clock or time.monotonic,
        **kwargs,  # type: ignore[arg-type]
    )
    return auth, pair


def token_response(n: int, expires_in: int | None = 300) -> httpx.Response:
    body: dict[str, object] = {"access_token": f"tok{n}", "token_type": "bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return httpx.Response(200, json=body)


def test_keys_load_from_jwks_and_pem_with_their_algorithm() -> None:
    rsa_pair, ec_pair = make_key("rsa", "r1"), make_key("ec", "e1")
    assert load_signing_key(rsa_pair.private_jwks()).algorithm == "RS384"
    assert load_signing_key(ec_pair.private_jwks()).kid == "e1"
    assert load_signing_key(ec_pair.private_jwks()).algorithm == "ES384"
    from_pem = load_signing_key(rsa_pair.private_pem)
    assert (
        from_pem.algorithm == "RS384" and from_pem.kid == load_signing_key(rsa_pair.private_pem).kid
    )
    assert load_signing_key(rsa_pair.private_pem, kid="registered").kid == "registered"
    with pytest.raises(Fatal, match="no private key with kid"):
        load_signing_key(rsa_pair.private_jwks(), kid="other")
    with pytest.raises(Fatal):
        load_signing_key("not a key")
    with pytest.raises(Fatal, match="P-384"):
        small = ec.generate_private_key(ec.SECP256R1())
        from jwt.algorithms import ECAlgorithm

        load_signing_key(ECAlgorithm.to_jwk(small), algorithm="ES384")


def test_thumbprint_matches_rfc_7638() -> None:
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
        "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    public = jwt.PyJWK({"kty": "RSA", "n": n, "e": "AQAB"}).key
    assert jwk_thumbprint(public) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_the_assertion_is_what_smart_backend_services_asks_for(kind: str) -> None:
    pair = make_key(kind, "k9")
    auth = SmartBackendAuth(
        client_id="client-1",
        token_url=TOKEN_URL,
        key=load_signing_key(pair.private_jwks()),
        scopes=["system/*.rs"],
        client=httpx.Client(),
    )
    first, second = auth.assertion(), auth.assertion()
    public = jwt.PyJWK(pair.public_jwk).key
    claims = jwt.decode(first, public, algorithms=[pair.alg], audience=TOKEN_URL)
    header = jwt.get_unverified_header(first)
    assert header["kid"] == "k9" and header["alg"] == pair.alg and header["typ"] == "JWT"
    assert claims["iss"] == claims["sub"] == "client-1"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


@respx.mock
def test_the_token_is_cached_and_renewed_before_it_expires() -> None:
    clock = Clock()
    route = respx.post(TOKEN_URL).mock(side_effect=[token_response(1), token_response(2)])
    auth, _ = smart(clock)
    assert auth.authorization() == "Bearer tok1"
    clock.now += 300 - refresh_margin(300) - 1
    assert auth.authorization() == "Bearer tok1" and route.call_count == 1
    clock.now += 2  # inside the margin: renewed while the old token is still valid
    assert auth.authorization() == "Bearer tok2" and route.call_count == 2
    form = parse_qs(route.calls[0].request.content.decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [ASSERTION_TYPE]
    assert form["scope"] == ["system/*.rs"]


def test_short_tokens_are_renewed_with_room_for_a_truncated_exp() -> None:
    """A 3 s token whose server truncated ``exp`` to the second lived 2.x s: a 0.6 s margin let
    requests arrive after it expired (a 401 seen in a full test run)."""
    assert refresh_margin(3) == 1.5
    assert refresh_margin(10) == 2.0
    assert refresh_margin(60) == 12.0
    assert refresh_margin(300) == 60.0 and refresh_margin(3600) == 60.0


@respx.mock
def test_a_slow_token_endpoint_does_not_stretch_the_tokens_life() -> None:
    """The token's life runs from when it was asked for: a 3 s token fetched in 1 s must be
    renewed by 3 - 0.6 s after the request, not 0.6 s before it expired: one of the two causes
    of the 401s a sync under load saw (the other, a header taken before a rate-limit wait)."""
    clock = Clock()
    served: list[float] = []

    def slow(request: httpx.Request) -> httpx.Response:
        served.append(clock.now)
        clock.now += 1.0
        return token_response(len(served), expires_in=3)

    respx.post(TOKEN_URL).mock(side_effect=slow)
    auth, _ = smart(clock)
    assert auth.authorization() == "Bearer tok1"  # asked at 1000.0, arrived at 1001.0
    clock.now = 1000.0 + 3 - refresh_margin(3) + 0.01
    assert auth.authorization() == "Bearer tok2"


@respx.mock
def test_a_missing_expires_in_is_taken_as_five_minutes() -> None:
    clock = Clock()
    route = respx.post(TOKEN_URL).mock(
        side_effect=[token_response(1, None), token_response(2, None)]
    )
    auth, _ = smart(clock)
    auth.authorization()
    clock.now += 239
    auth.authorization()
    assert route.call_count == 1
    clock.now += 2
    auth.authorization()
    assert route.call_count == 2


@respx.mock
def test_many_threads_with_a_stale_token_cause_one_refresh() -> None:
    calls = []

    def slow_token(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        time.sleep(0.2)
        return token_response(len(calls))

    respx.post(TOKEN_URL).mock(side_effect=slow_token)
    auth, _ = smart()
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(auth.authorization())) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and set(results) == {"Bearer tok1"}


@respx.mock
def test_renew_drops_only_the_rejected_token() -> None:
    route = respx.post(TOKEN_URL).mock(
        side_effect=[token_response(1), token_response(2), token_response(3)]
    )
    auth, _ = smart()
    rejected = auth.authorization()
    assert auth.renew(rejected)
    assert auth.authorization() == "Bearer tok2"
    auth.renew(rejected)  # a late 401 for the old token must not throw away the new one
    assert auth.authorization() == "Bearer tok2" and route.call_count == 2


@respx.mock
def test_token_endpoint_refusals() -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={"error": "invalid_client"}))
    auth, _ = smart()
    with pytest.raises(AuthorizationFailed, match="invalid_client"):
        auth.authorization()


@respx.mock
def test_flaky_400s_are_retried_where_the_vendor_has_them() -> None:
    route = respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(400, json={"error": "invalid_request"}),
            httpx.Response(503),
            token_response(1),
        ]
    )
    auth, _ = smart(token_400_is_temporary=True)
    assert auth.authorization() == "Bearer tok1" and route.call_count == 3
