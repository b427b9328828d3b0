"""Which failures are worth a retry: temporary I/O and database contention, not bad input."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from chartroute.config import ConfigError

TEMPORARY = (OperationalError, TimeoutError, ConnectionError)


def retry_temporary(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only errors that may pass by themselves."""
    try:
        state.result()
    except ConfigError:
        return False
    except TEMPORARY:
        return True
    except OSError:
        return True
    except Exception:
        return False
    return False
