"""Which failures are worth a retry: temporary I/O and database contention, not bad input.

EHR errors carry their verdict in their type: ``Temporary`` (408, 429, 5xx, timeouts, dropped
connections that outlived the client's own retries) is retried; ``Fatal`` (refused
credentials, other 4xx, protocol violations) is not, since a person must act first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from chartroute.config import ConfigError
from chartroute.fhirclient.errors import Fatal, Temporary

TEMPORARY = (OperationalError, TimeoutError, ConnectionError, Temporary)


def retry_temporary(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only errors that may pass by themselves."""
    try:
        state.result()
    except (ConfigError, Fatal):
        return False
    except TEMPORARY:
        return True
    except OSError:
        return True
    except Exception:
        return False
    return False
