"""Throwaway SMART test keys: private JWKS for the client, public for the server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


@dataclass(frozen=True)
class KeyPair:
    """A key pair as the files a practice and an EHR would each hold."""

    kid: str
    alg: str
    private_jwk: dict[str, Any]
    public_jwk: dict[str, Any]
    private_pem: str

    def private_jwks(self) -> str:
        return json.dumps({"keys": [self.private_jwk]})


def make_key(kind: str, kid: str) -> KeyPair:
    """An RSA (RS384) or EC P-384 (ES384) key pair."""
    if kind == "rsa":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        alg, algorithm = "RS384", RSAAlgorithm
    else:
        key = ec.generate_private_key(ec.SECP384R1())
        alg, algorithm = "ES384", ECAlgorithm  # type: ignore[assignment]
    private = json.loads(algorithm.to_jwk(key))
    public = json.loads(algorithm.to_jwk(key.public_key()))
    for jwk in (private, public):
        jwk.update(kid=kid, alg=alg)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(kid, alg, private, public, pem)
