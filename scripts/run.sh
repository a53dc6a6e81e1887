#!/usr/bin/env bash
# Web + worker on the embedded default (SQLite, in-process jobs): one command, no servers.
# First start seeds a demo call centre: a week of emulated calls, flags, three demo users and two agent
# logins (one with a dispute waiting for the supervisor).
set -euo pipefail
cd "$(dirname "$0")/.."
export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-demo-auth-token}"
export SECRET_KEY="${SECRET_KEY:-demo-secret-key-change-me}"
FLASK=".venv/bin/flask --app aftercall"
PASSWORD="${DEMO_PASSWORD:-aftercall-demo}"
if ! $FLASK users list 2>/dev/null | grep -q "admin@demo.local"; then
  echo "$PASSWORD" | $FLASK users create-admin admin@demo.local --password-stdin
  echo "$PASSWORD" | $FLASK users create supervisor@demo.local --role supervisor --password-stdin
  echo "$PASSWORD" | $FLASK users create hr@demo.local --role hr --password-stdin
fi
$FLASK demo --if-empty
$FLASK flags recompute --now
echo "$PASSWORD" | $FLASK demo-agents --password-stdin
$FLASK worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null' EXIT INT TERM
echo "Aftercall: http://127.0.0.1:${PORT:-5000}  users admin@ / supervisor@ / hr@demo.local, agents farid@ / anna@demo.local, password: $PASSWORD"
.venv/bin/gunicorn --bind "127.0.0.1:${PORT:-5000}" --workers 2 --threads 4 'aftercall:create_app()'
