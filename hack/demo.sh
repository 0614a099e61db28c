#!/usr/bin/env bash
# The main job end to end on embedded local servers (no Docker, no system services):
# creates .venv, installs jsctl, starts the dev NATS server and Postgres (`jsctl dev up`), then
# plan -> apply (streams, consumers, database schema) -> publish events -> worker until idle -> plan again.
# Stop the servers afterwards with `.venv/bin/jsctl dev down` (`--purge` also deletes the data).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/venv.sh
jsctl() { .venv/bin/jsctl "$@"; }
step() { printf '\n==> %s\n' "$*"; }

step "dev servers"
# Port 0 = any free port, so the demo never collides with servers already on this machine.
jsctl dev up --nats-port "${JSCTL_DEV_NATS_PORT:-0}" --pg-port "${JSCTL_DEV_PG_PORT:-0}"
eval "$(jsctl dev env)"
jsctl ping

step "plan"
jsctl plan
step "apply"
jsctl apply --yes

step "publish ${JSCTL_DEMO_EVENTS:=2000} events"
jsctl publish --count "$JSCTL_DEMO_EVENTS"

step "worker (until the consumer is drained)"
jsctl worker --until-idle --progress-interval 1

step "plan again: nothing to change"
jsctl plan --detailed-exitcode
