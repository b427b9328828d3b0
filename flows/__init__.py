"""Prefect flows composing the tasks: sync (and later sweep, report, backfill)."""
