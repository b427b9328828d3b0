"""How requests prove who we are: SMART Backend Services, a static bearer token, or Basic.

SMART Backend Services (client_credentials with a ``private_key_jwt`` assertion signed RS384
or ES384) is how athenahealth, eClinicalWorks, NextGen and Epic grant system access. Tokens
are cached and renewed *before* they expire (eClinicalWorks' last five minutes with no
refresh token), and one lock makes sure that when many threads find the token stale, one of
them fetches a new one and the others wait for it instead of stampeding the token endpoint.
A 401 still happens (a token revoked early, clocks apart): ``renew`` drops the rejected token
so the caller can try once more with a fresh one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from chartroute.fhirclient.errors import (
    AuthorizationFailed,
    Fatal,
    Temporary,
    UnusableKey,
    is_temporary_status,
)
from chartroute.fhirclient.retry import RetryPolicy, parse_retry_after, with_retries

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNING_ALGORITHMS = ("RS384", "ES384")
#: Lifetime assumed when a token response omits ``expires_in`` (eClinicalWorks' 300 s).
DEFAULT_TOKEN_SECONDS = 300
ASSERTION_SECONDS = 240  # SMART: exp no more than five minutes ahead


class Auth(Protocol):
    """Supplies the Authorization header; may renew it once after a 401."""

    def authorization(self) -> str | None:
        """The Authorization header value for the next request, or None for none."""
        ...

    def renew(self, rejected: str | None) -> bool:
        """Drop ``rejected`` (the header a 401 answered); True if another attempt may succeed."""
        ...


class NoAuth:
    """Open sandboxes: no Authorization header."""

    def authorization(self) -> str | None:
        return None

    def renew(self, rejected: str | None) -> bool:
        return False


class BearerAuth:
    """A static token issued out of band (sandboxes); cannot be renewed."""

    def __init__(self, token: str):
        self._header = f"Bearer {token}"

    def authorization(self) -> str | None:
        return self._header

    def renew(self, rejected: str | None) -> bool:
        return False


class BasicAuth:
    """HTTP Basic, for test servers and sandboxes only."""

    def __init__(self, username: str, password: str):
        pair = f"{username}:{password}".encode()
        self._header = "Basic " + base64.b64encode(pair).decode("ascii")

    def authorization(self) -> str | None:
        return self._header

    def renew(self, rejected: str | None) -> bool:
        return False


@dataclass(frozen=True)
class SigningKey:
    """A private key with the JWS algorithm and key id its assertions carry."""

    key: Any
    algorithm: str
    kid: str


def load_signing_key(
    text: str, *, kid: str | None = None, algorithm: str | None = None
) -> SigningKey:
    """Read a private key from a JWKS, a single JWK, or PEM text (sniffed from the content).

    A JWKS may hold several keys: the one with ``kid`` is used, else the first private key.
    The algorithm comes from the argument, the JWK's ``alg``, or the key type (RSA → RS384,
    EC → ES384). A PEM key without a configured ``kid`` gets its RFC 7638 thumbprint.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        return _from_jwk_json(stripped, kid, algorithm)
    if stripped.startswith("-----BEGIN"):
        try:
            key = load_pem_private_key(stripped.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise UnusableKey(
                f"private key: not a readable unencrypted PEM private key ({exc})"
            ) from None
        alg = algorithm or _algorithm_for(key)
        _check_algorithm(alg, key)
        return SigningKey(key, alg, kid or jwk_thumbprint(key.public_key()))
    raise UnusableKey("private key: expected a JWKS / JWK (JSON) or a PEM private key")


def _from_jwk_json(text: str, kid: str | None, algorithm: str | None) -> SigningKey:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnusableKey(f"private key: JWKS is not JSON ({exc.msg})") from None
    candidates = (
        document.get("keys") if isinstance(document, dict) and "keys" in document else [document]
    )
    if not isinstance(candidates, list):
        raise UnusableKey("private key: JWKS 'keys' is not an array")
    private = [k for k in candidates if isinstance(k, dict) and "d" in k]
    if kid is not None:
        private = [k for k in private if k.get("kid") == kid]
    if not private:
        which = f" with kid {kid!r}" if kid else ""
        raise UnusableKey(f"private key: the JWKS holds no private key{which}")
    jwk_dict = private[0]
    try:
        key = jwt.PyJWK(jwk_dict).key
    except jwt.PyJWTError as exc:
        raise UnusableKey(f"private key: unusable JWK ({exc})") from None
    alg = algorithm or jwk_dict.get("alg") or _algorithm_for(key)
    _check_algorithm(alg, key)
    return SigningKey(key, alg, kid or jwk_dict.get("kid") or jwk_thumbprint(key.public_key()))


def _algorithm_for(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS384"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES384"
    raise UnusableKey(
        f"private key: unsupported key type {type(key).__name__} (use RSA or EC P-384)"
    )


def _check_algorithm(alg: str, key: Any) -> None:
    if alg not in SIGNING_ALGORITHMS:
        raise UnusableKey(
            f"private key: algorithm {alg!r} is not one of {', '.join(SIGNING_ALGORITHMS)}"
        )
    if alg == "RS384" and not isinstance(key, rsa.RSAPrivateKey):
        raise UnusableKey("private key: RS384 needs an RSA key")
    if alg == "ES384" and not (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1)
    ):
        raise UnusableKey("private key: ES384 needs an EC key on curve P-384")


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk_thumbprint(public_key: Any) -> str:
    """RFC 7638 JWK thumbprint of a public key: a stable kid when none is configured."""
    key = public_key
    public = key.public_numbers()
    if isinstance(key, rsa.RSAPublicKey):
        members = {"e": _b64(public.e), "kty": "RSA", "n": _b64(public.n)}
    else:
        size = (key.curve.key_size + 7) // 8
        members = {
            "crv": f"P-{key.curve.key_size}",
            "kty": "EC",
            "x": base64.urlsafe_b64encode(public.x.to_bytes(size, "big")).rstrip(b"=").decode(),
            "y": base64.urlsafe_b64encode(public.y.to_bytes(size, "big")).rstrip(b"=").decode(),
        }
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


class SmartBackendAuth:
    """SMART Backend Services: signed client assertion → cached access token, renewed early."""

    def __init__(
        self,
        *,
        client_id: str,
        token_url: str,
        key: SigningKey,
        scopes: list[str],
        client: httpx.Client,
        retry: RetryPolicy | None = None,
        token_400_is_temporary: bool = False,
        jku: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], float] = time.time,
    ):
        self.client_id = client_id
        self.token_url = token_url
        self.key = key
        self.scopes = scopes
        self.client = client
        self.retry = retry or RetryPolicy()
        self.token_400_is_temporary = token_400_is_temporary
        self.jku = jku
        self._clock = clock
        self._wallclock = wallclock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.tokens_fetched = 0

    def authorization(self) -> str | None:
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                asked = self._clock()  # the token's life runs from here, not from its arrival
                self._token, lifetime = with_retries(self.retry, self._fetch, "token request")
                self._refresh_at = asked + lifetime - refresh_margin(lifetime)
                self.tokens_fetched += 1
            return f"Bearer {self._token}"

    def renew(self, rejected: str | None) -> bool:
        with self._lock:
            if self._token is not None and rejected == f"Bearer {self._token}":
                self._token = None
        return True

    def assertion(self) -> str:
        """A fresh signed client assertion (new jti every time: servers reject replays)."""
        now = int(self._wallclock())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
            "jti": uuid.uuid4().hex,
        }
        headers: dict[str, Any] = {"kid": self.key.kid, "typ": "JWT"}
        if self.jku:
            headers["jku"] = self.jku
        return jwt.encode(claims, self.key.key, algorithm=self.key.algorithm, headers=headers)

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "scope": " ".join(self.scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        try:
            response = self.client.post(
                self.token_url, data=form, headers={"Accept": "application/json"}
            )
        except httpx.TransportError as exc:
            raise Temporary(f"token request to {self.token_url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            body = response.json()
        except ValueError:
            raise Fatal(f"token endpoint {self.token_url} answered 200 without JSON") from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise Fatal(f"token endpoint {self.token_url} answered without an access_token")
        expires = body.get("expires_in")
        lifetime = (
            float(expires)
            if isinstance(expires, (int, float)) and expires > 0
            else DEFAULT_TOKEN_SECONDS
        )
        return token, lifetime

    def _refusal(self, response: httpx.Response) -> Exception:
        status = response.status_code
        code = _oauth_error_code(response)
        message = f"token endpoint {self.token_url} answered HTTP {status}" + (
            f" ({code})" if code else ""
        )
        if is_temporary_status(status) or (status == 400 and self.token_400_is_temporary):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return Temporary(message, status=status, url=self.token_url, retry_after=retry_after)
        return AuthorizationFailed(message, status=status, url=self.token_url)


def refresh_margin(lifetime: float) -> float:
    """Renew this long before expiry: a fifth of the lifetime, at most a minute, and for short
    tokens at least two seconds (or half the lifetime): a JWT ``exp`` is whole seconds, so a
    server that truncates its clock takes up to a second off ``expires_in`` before the request
    even travels."""
    return min(60.0, max(lifetime / 5, min(2.0, lifetime / 2)))


def _oauth_error_code(response: httpx.Response) -> str | None:
    """The OAuth ``error`` code of a refusal (``invalid_client``...): safe to log, unlike bodies."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and code.replace("_", "").isalnum() else None
