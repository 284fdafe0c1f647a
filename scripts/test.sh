#!/usr/bin/env bash
# Set up .venv (if needed) with requirements-dev.txt and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]    e.g. bash scripts/test.sh tests/test_i18n.py
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest -q "$@"
