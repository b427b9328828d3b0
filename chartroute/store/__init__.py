"""chartroute's own system of record: facts, charts, work items and their history."""
