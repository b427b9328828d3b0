"""How chartroute's flows are deployed: ``prefect.yaml`` for a Prefect server with a worker,
``serve.py`` for ``chartroute serve`` (one process that schedules and runs every flow)."""
