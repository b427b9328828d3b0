"""Resolve the secrets channels need (tokens, passwords, signing keys) outside the YAML.

The domain library reads environment variables; the Prefect tasks pass a resolver that also
reads Prefect Secret blocks (``tasks/deliver.py``), so chartroute itself never imports Prefect.
"""

from __future__ import annotations

from collections.abc import Callable

from chartroute.config.secrets import SecretRef, SecretUnavailable

SecretResolver = Callable[[SecretRef], str]


class MissingSecret(SecretUnavailable):
    """A channel's secret is not available; its messages wait until it is."""


def env_secrets(ref: SecretRef) -> str:
    """The value of the environment variable a ``SecretRef`` names."""
    try:
        return ref.resolve()
    except SecretUnavailable as exc:
        raise MissingSecret(str(exc)) from None
