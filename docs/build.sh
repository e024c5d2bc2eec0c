#!/usr/bin/env bash
# Build the documentation with warnings as errors, after checking the committed capability
# matrix still matches the installed providers (the toy example plugin is not published). Run through `./dev docs`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m telephony_core.matrix --check docs/capability-matrix.md --exclude example
"$PY" -m sphinx -W --keep-going -q -b html docs docs/_build/html
echo "docs built: docs/_build/html/index.html"
