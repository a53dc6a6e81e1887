#!/usr/bin/env bash
# Web + worker on the embedded default (SQLite, in-process jobs): one command, no servers.
# First start seeds a demo call centre: a week of emulated calls, flags, and three demo users.
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
  # Each team's call-backs go round its supervisors (docs/supervisors.md, "Owner").
  echo "$PASSWORD" | $FLASK users create tech-lead@demo.local --role supervisor --password-stdin
  echo "$PASSWORD" | $FLASK users create sales-lead@demo.local --role supervisor --password-stdin
  $FLASK callbacks team supervisor@demo.local billing
  $FLASK callbacks team tech-lead@demo.local tech
  $FLASK callbacks team sales-lead@demo.local sales
fi
$FLASK demo --if-empty
$FLASK flags recompute
# "Call back" rings through an emulated Twilio for as long as this runs, unless a real one is set.
EMULATED=""
if [ -z "${TWILIO_ACCOUNT_SID:-}" ]; then
  export TWILIO_ACCOUNT_SID="AC$(printf '4%.0s' $(seq 32))" TWILIO_FROM_NUMBER="+15005550006"
  export TWILIO_API_BASE_URL="http://127.0.0.1:${DEMO_TWILIO_PORT:-$(( ${PORT:-5000} + 1 ))}"
  export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT:-5000}}"
  .venv/bin/python -m emulator.demo_twilio --port "${TWILIO_API_BASE_URL##*:}" --app "$PUBLIC_BASE_URL" \
    --account-sid "$TWILIO_ACCOUNT_SID" --auth-token "$TWILIO_AUTH_TOKEN" &
  EMULATED=$!
fi
$FLASK worker &
WORKER=$!
trap 'kill $WORKER $EMULATED 2>/dev/null' EXIT INT TERM
echo "Aftercall: http://127.0.0.1:${PORT:-5000}  users admin@ / supervisor@ / hr@demo.local, password: $PASSWORD"
.venv/bin/gunicorn --bind "127.0.0.1:${PORT:-5000}" --workers 2 --threads 4 'aftercall:create_app()'
