"""The ``chartroute`` command line."""
