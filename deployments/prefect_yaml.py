"""``prefect.yaml`` written from the practice file, so deploy and serve share one set of schedules.

``chartroute deployments render --config F`` writes the file an engineer deploys with
``prefect deploy --all``: the deployments of ``catalog.py``, scheduled in the practice's
timezone and clinic hours as ``chartroute serve`` schedules them, tagged with ``chartroute`` and
the practice's name, reading the practice file named by ``--config`` (as given: a relative path
is read from the folder ``prefect deploy`` runs in, which the worker runs the flows in).

The EHR location is not in the file: ``prefect deploy`` reads it from ``$CHARTROUTE_SOURCE``,
and the file's build step (``deploy_checks.require_settings``) stops the deploy while it is
empty. Ad hoc deployments say ``schedules: null``, which Prefect asks for instead of ``[]``
(an empty list on a redeploy is deprecated and warns). ``paused: false`` says what a deploy
does: it resumes schedules paused in the UI or by a stopped ``chartroute serve``.
"""

from __future__ import annotations

from typing import Any

import yaml

from chartroute.config import PracticeConfig
from chartroute.deployments.catalog import (
    DEPLOYMENTS,
    DeploymentSpec,
    default_parameters,
    deployment_tags,
)

WORK_POOL = "chartroute"
SOURCE_VARIABLE = "CHARTROUTE_SOURCE"
REQUIRE_SETTINGS = "chartroute.deployments.deploy_checks.require_settings"
#: Why each kind of schedule is what it is, written above each deployment.
SCHEDULE_NOTES = {
    "clinic-hours": "every 15 minutes in every hour the clinic is open (practice.calendar)",
    "hourly": "hourly, all day: delinquency counts calendar time; notices keep quiet hours",
    "daily": "daily, before the clinic opens",
    "none": "ad hoc: the UI's form, or `prefect deployment run {name} -p name=value`",
}

HEADER = """\
# chartroute deployments for a Prefect server with workers (README: "For engineers").
#
# Written from the practice file by
#   chartroute deployments render --config {config_path}
# with the schedules in its timezone ({timezone}) and clinic hours: change the practice file and
# render again rather than editing this file.
#
#   prefect work-pool create {pool} --type process
#   export {source}=/path/to/ehr-export     # folder, FHIR base URL or bulk+<base URL>
#   prefect --no-prompt deploy --all --prefect-file <this file>      # from the repository root
#   prefect worker start --pool {pool}
#
# Run `prefect deploy` from the repository root: entrypoints (and a relative practice file) are
# read from it, and the worker runs each flow in that folder. Every deployment runs one at a
# time (a run that would overlap a running one is cancelled, not queued); the database lease
# (chartroute/store/lease.py) is the guard across servers and by-hand runs.
"""


def render_prefect_yaml(config: PracticeConfig, config_path: str) -> str:
    """The ``prefect.yaml`` text for this practice; ``config_path`` is written as given."""
    header = HEADER.format(
        config_path=config_path,
        timezone=config.practice.timezone,
        pool=WORK_POOL,
        source=SOURCE_VARIABLE,
    )
    top = {
        "name": "chartroute",
        "build": [{REQUIRE_SETTINGS: {"names": [SOURCE_VARIABLE]}}],
    }
    parts = [header, "\n", _dump(top), "\ndeployments:\n"]
    for i, spec in enumerate(DEPLOYMENTS):
        note = SCHEDULE_NOTES[spec.schedule].format(name=spec.full_name)
        parts.append(("\n" if i else "") + f"  # {note}\n")
        parts.append(_indent(_dump([_deployment(spec, config, config_path)])))
    return "".join(parts)


def _deployment(spec: DeploymentSpec, config: PracticeConfig, config_path: str) -> dict[str, Any]:
    schedules = [
        {"cron": s.cron, "timezone": s.timezone, "active": True} for s in spec.schedules(config)
    ]
    return {
        "name": spec.name,
        "entrypoint": spec.entrypoint,
        "description": spec.description,
        "tags": deployment_tags(config),
        "work_pool": {"name": WORK_POOL, "work_queue_name": "default"},
        "concurrency_limit": {"limit": 1, "collision_strategy": "CANCEL_NEW"},
        "paused": False,
        "parameters": default_parameters(spec, "{{ $" + SOURCE_VARIABLE + " }}", config_path),
        "schedules": schedules or None,
    }


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True)


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(True))
