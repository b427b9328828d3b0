"""``column IN <a set of keys>`` with the keys bound as one parameter, whatever their number.

An expanding ``IN (:k1, :k2, …)`` list costs the client more than the database: every
statement is rendered anew for its key count, PostgreSQL's driver re-parses the whole text
(a 5,000-key list was a quarter of the classify stage's client time), and both databases cap
the number of parameters, so callers had to slice their keys. Here the keys travel as one
JSON array, encoded in C by orjson, and the database unpacks it:

- PostgreSQL: ``column = ANY(ARRAY(SELECT json_array_elements_text(:keys)))``, an index scan
  with the array as its condition. Binding a ``varchar[]`` instead would do the same on the
  server, but psycopg adapts a list element by element in Python: twice the client CPU of
  the JSON text for a 5,000-key lookup (measured: 8 ms against 4 ms). The index scan needs
  statistics that know the table is large: planned as a tiny one, the condition becomes a
  scan testing every row against the whole array (143 ms against 1.8 ms for 1,000 keys and
  9,250 rows), which is why ``store/planner_stats.py`` analyzes the tables a bulk classify
  fills as they fill. A semi-join (``IN (SELECT …)``) avoids that case but was planned as hash
  joins over whole tables elsewhere: slower in all (bench/README.md, "The fourth round").
- SQLite: ``column IN (SELECT value FROM json_each(:keys))``; SQLite builds a transient index
  of the keys and probes ``column``'s index, as for a literal list.

The statement text is the same for 1 key or 100,000, so the statement caches of SQLAlchemy,
the drivers and the servers all hit, and no caller slices its keys into chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, String, any_, bindparam, cast, func, select
from sqlalchemy.sql.elements import ColumnElement


def key_in(
    conn: Connection, column: ColumnElement[Any], keys: Iterable[str] | Iterable[int]
) -> ColumnElement[bool]:
    """A condition true where ``column`` holds one of ``keys`` (an empty set matches nothing).

    Keys are strings, or integers for an integer id column: JSON numbers, which SQLite's
    ``json_each`` gives back as integers and PostgreSQL's text elements are cast to the column's
    type (an integer compared with text is an error there, not a mismatch)."""
    listed = bindparam(None, orjson.dumps(list(keys)).decode(), type_=String)
    if conn.dialect.name == "postgresql":
        element: ColumnElement[Any] = func.json_array_elements_text(cast(listed, JSON))
        if not isinstance(column.type, String):
            element = cast(element, column.type)
        elements = select(element).scalar_subquery()
        return column == any_(func.array(elements))
    value = func.json_each(listed).table_valued("value")
    return column.in_(select(value.c.value))
