"""Which failures may pass by themselves, so that another attempt later is worth making.

Retries belong on I/O that can heal: an EHR answering 503 or 429 (``Temporary``), a timeout or
a dropped connection, and contention on the database (a lock another writer holds, a deadlock
or serialization failure PostgreSQL resolved by aborting us, a server that closed or refused
the connection while restarting). What a person must fix fails at once, however often it is
tried: a ``Fatal`` EHR answer, a config error, a missing or unreadable file, a read-only
database, a missing table, a constraint violation, bad input, a bug.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from chartroute.fhirclient.errors import FhirClientError, is_temporary

#: PostgreSQL SQLSTATEs of contention and lost connections: classes 08 (connection) and 40
#: (serialization failure, deadlock), lock_not_available, the server shutting down or
#: restarting, too many connections.
HEALING_SQLSTATES = ("08", "40", "55P03", "57P01", "57P02", "57P03", "53300")
#: What drivers that give no SQLSTATE say (SQLite's locks; a connection that never opened).
HEALING_MESSAGES = (
    "database is locked",
    "database table is locked",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "connection reset",
    "connection timed out",
    "timeout expired",
    "terminating connection",
)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` may pass by itself (see the module's docstring)."""
    if isinstance(error, FhirClientError):
        return is_temporary(error)
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    return is_database_contention(error)


def is_database_contention(error: BaseException) -> bool:
    """A database error that waiting can cure: contention or a lost connection."""
    if isinstance(error, PoolTimeout | DisconnectionError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False  # integrity, programming, data and internal errors (read-only, say)
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate.startswith(HEALING_SQLSTATES)
    message = str(error.orig).lower()
    return any(phrase in message for phrase in HEALING_MESSAGES)
