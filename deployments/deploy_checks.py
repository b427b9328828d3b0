"""What ``prefect deploy`` checks before it registers chartroute's deployments.

``prefect.yaml`` fills the deployments' ``source`` from ``$CHARTROUTE_SOURCE`` at deploy time.
Unset, it would be written as an empty string, the deploy would succeed, and every run would
then fail. ``require_settings`` is the file's build step: ``prefect deploy`` runs it first, and
it stops the deploy naming each empty variable and how to set it.
"""

from __future__ import annotations

import os
import sys

#: What each variable holds, for the message that asks for it.
MEANING = {
    "CHARTROUTE_SOURCE": "the folder of the EHR export, a FHIR base URL or bulk+<base URL> "
    "that the sync and backfill deployments read, e.g. /data/ehr-export",
}


class EmptySetting(ValueError):
    """A variable ``prefect.yaml`` reads at deploy time is unset or empty."""


def require_settings(names: list[str]) -> dict[str, str]:
    """The build step: refuse to deploy while any of ``names`` is unset or empty.

    The message also goes to stderr because ``prefect deploy`` reports a failed step by its
    name only.
    """
    empty = [name for name in names if not os.environ.get(name, "").strip()]
    if empty:
        message = "; ".join(
            f"{name} is empty: set it to {MEANING.get(name, 'a value')} "
            f"(export {name}=...) and run prefect deploy again"
            for name in empty
        )
        print(f"error: {message}", file=sys.stderr)
        raise EmptySetting(message)
    return {}
