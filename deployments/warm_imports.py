"""What a served flow run imports before its work starts, imported once for all of them.

``chartroute serve``'s fork server imports this module when serve starts
(``chartroute/deployments/warm_runs.py``), and every flow run is forked from it with these
already loaded: Prefect's engine, every flow serve runs (and so the domain library), pandas,
and Great Expectations as chartroute imports it (``validation/gx_import.py``, without the
libraries only unused expectations need), and the newest migration's revision is read. Importing
them took a spawned run about 3 s.
"""

from __future__ import annotations

import pandas  # noqa: F401 - the suites' frames
import prefect.flow_engine  # noqa: F401 - what runs a flow in the forked process

import chartroute.deployments.catalog  # noqa: F401 - every served flow, and their imports
from chartroute.store.engine import migration_head
from chartroute.validation.gx_import import import_gx

import_gx()
migration_head()  # the migration scripts read once, not by every run's first engine
