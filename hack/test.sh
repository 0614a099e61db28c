#!/usr/bin/env bash
# Runs the whole test suite: creates .venv and installs jsctl with its dev extra if needed.
# Needs only Python 3 (>= 3.10) and git; servers are started by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
exec .venv/bin/python -m pytest "$@"
