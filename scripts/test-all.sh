#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs everything the tests need (the exact
# versions in requirements.lock), then runs lint, type checks, the import contracts and every
# test (fast, slow and integration) against SQLite and PostgreSQL.
# PostgreSQL must be listening on 127.0.0.1:5432 (user postgres, trust auth, database test).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c requirements.lock -e '.[test]'
bash scripts/test-setup.sh

export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
# tasks/, flows/ and deployments/ are named as well: ruff does not follow the symlinks that
# make them chartroute.tasks, chartroute.flows and chartroute.deployments.
.venv/bin/ruff check chartroute tasks flows deployments tests bench
.venv/bin/ruff format --check --quiet chartroute tasks flows deployments tests bench
.venv/bin/mypy chartroute
.venv/bin/lint-imports --no-logo
set +e
# Two workers (pytest-xdist, one per core here), each test file whole on one worker so its
# module fixtures are built once; each worker has its own Prefect API and PostgreSQL database.
# A line per finished file says where the run is (tests/progress.py).
.venv/bin/pytest -m "" -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
status=$?
set -e
# pytest exits 5 when it collected no tests: that is a failure of the suite, not a pass.
exit $status
