#!/usr/bin/env bash
# Runs the whole test suite: creates .venv and installs jsctl with its dev extra if needed.
# Needs only Python 3 (>= 3.10, with venv) and git; servers are started by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/venv.sh
exec .venv/bin/python -m pytest "$@"
