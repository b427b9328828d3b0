"""Resolve the secrets channels need (tokens, passwords, signing keys) outside the YAML.

The domain library reads environment variables; the Prefect tasks pass a resolver that also
reads Prefect Secret blocks (``tasks/deliver.py``), so chartroute itself never imports Prefect.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from chartroute.config.notify import SecretRef

SecretResolver = Callable[[SecretRef], str]


class MissingSecret(Exception):
    """A channel's secret is not available; its messages wait until it is."""


def env_secrets(ref: SecretRef) -> str:
    """The value of the environment variable a ``SecretRef`` names."""
    if ref.env is None:
        raise MissingSecret(f"{ref} can only be read inside a Prefect flow run")
    value = os.environ.get(ref.env)
    if not value:
        raise MissingSecret(f"environment variable {ref.env} is not set")
    return value
