"""Where a secret lives: the name of an environment variable or of a Prefect Secret block.

Secrets never appear in the practice YAML; a field of type ``SecretRef`` names where the value
is, and the value is read only when a channel or connection is opened. The domain library reads
environment variables itself; reading a Prefect Secret block needs a ``BlockLoader``, which the
orchestration layer (``tasks/secrets.py``) passes in, so ``chartroute`` never imports Prefect.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import Field, model_validator

from chartroute.config.base import StrictModel

#: Resolves a Prefect Secret block name to its value (injected by the orchestration layer).
BlockLoader = Callable[[str], str]


class SecretUnavailable(LookupError):
    """A secret the config names cannot be read (unset variable, missing block)."""


class SecretRef(StrictModel):
    """Where a secret's value lives; exactly one of the two."""

    env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Name of the environment variable holding the value (upper case).",
    )
    prefect_secret: str | None = Field(
        default=None, description="Name of the Prefect Secret block holding the value."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.prefect_secret is None):
            raise ValueError("give exactly one of 'env' or 'prefect_secret'")
        return self

    def describe(self) -> str:
        """Where the value comes from, for messages (never the value)."""
        if self.env:
            return f"environment variable {self.env}"
        return f"Prefect Secret {self.prefect_secret!r}"

    def __str__(self) -> str:
        return self.describe()

    def resolve(self, blocks: BlockLoader | None = None) -> str:
        """The secret's value; raises ``SecretUnavailable`` naming where it looked."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise SecretUnavailable(f"{self.describe()} is not set")
            return value
        if blocks is None:
            raise SecretUnavailable(f"{self.describe()} needs Prefect to read it")
        try:
            return blocks(str(self.prefect_secret))
        except Exception as exc:  # the block store's own errors vary by version
            raise SecretUnavailable(
                f"{self.describe()} could not be loaded: {type(exc).__name__}"
            ) from None
