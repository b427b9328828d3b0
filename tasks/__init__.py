"""Prefect tasks: thin wrappers over the domain stages that add retries, names, logs and artifacts."""
