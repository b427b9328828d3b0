#!/usr/bin/env bash
# Regenerate requirements.lock: the exact versions that README's commands and test-all.sh
# install, resolved from pyproject.toml's ranges (with the test extra) for every platform and
# for Python 3.11 and later. Versions already in the lock are kept unless a range excludes
# them; pass --upgrade (or --upgrade-package NAME) to move to newer releases. Run it after
# changing a dependency in pyproject.toml, run the whole suite, and commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet uv
.venv/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
  --custom-compile-command "scripts/lock.sh" --quiet --output-file requirements.lock "$@"
