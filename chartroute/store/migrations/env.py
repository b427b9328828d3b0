"""Alembic environment: runs on the connection chartroute hands it (see store/engine.py)."""

from __future__ import annotations

from alembic import context

from chartroute.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the `alembic` command line gets here
    from chartroute.store.engine import database_url, make_engine

    engine = make_engine(database_url(), migrate=False)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
