"""Backfills of historical charts: partition planning, as-of reconstruction, bookkeeping."""
