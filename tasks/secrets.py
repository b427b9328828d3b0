"""Read Prefect Secret blocks for the domain library, which never imports Prefect itself."""

from __future__ import annotations

from typing import Any


def prefect_secret(name: str) -> str:
    """The value of the Prefect Secret block ``name``."""
    from prefect.blocks.system import Secret

    block: Any = Secret.load(name)
    return str(block.get())
