#!/usr/bin/env bash
# The main job end to end on embedded local servers (no Docker, no system services):
# creates .venv, installs jsctl, starts the dev NATS server and Postgres (`jsctl dev up`),
# then checks both connections.  Stop the servers afterwards with `.venv/bin/jsctl dev down`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
jsctl=.venv/bin/jsctl
# Port 0 = any free port, so the demo never collides with servers already on this machine.
$jsctl dev up --nats-port "${JSCTL_DEV_NATS_PORT:-0}" --pg-port "${JSCTL_DEV_PG_PORT:-0}"
eval "$($jsctl dev env)"
$jsctl ping
