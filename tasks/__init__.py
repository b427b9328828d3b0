"""Prefect tasks: thin wrappers over domain stages that add retries, names, logs, artifacts."""
