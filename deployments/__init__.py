"""How chartroute's flows are deployed: ``catalog.py`` lists the deployments, scheduled from the
practice file (``schedules.py``); ``serve.py`` runs them all in one process (``chartroute
serve``) and ``prefect_yaml.py`` writes them as the ``prefect.yaml`` a server with workers
deploys (``chartroute deployments render``)."""
