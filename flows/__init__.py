"""Prefect flows composing the tasks: sync, escalation sweep, report, backfill, simulation."""
