#!/usr/bin/env bash
# Set up .venv (if needed) with requirements.txt and start AIGC Lab at http://127.0.0.1:8501 .
# Extra arguments go to `streamlit run`, e.g. bash scripts/run.sh --server.port 8600
# The launcher (ui/server/launch.py) is `streamlit run app.py` that also warms Home's imports and caches in the
# background while the browser loads the page.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m ui.server.launch "$@"
