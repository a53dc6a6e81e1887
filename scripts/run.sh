#!/usr/bin/env bash
# Web + worker on the embedded default (SQLite, in-process jobs): one command, no servers.
# First start seeds a demo call centre: a week of emulated calls, flags, the demo users and two agent
# logins (one with a dispute waiting for the supervisor). The port answers at once:
# scripts/preparing.py shows how far the preparation got (a few minutes the first time) until
# gunicorn takes the port over.
set -euo pipefail
cd "$(dirname "$0")/.."
export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-demo-auth-token}"
export SECRET_KEY="${SECRET_KEY:-demo-secret-key-change-me}"
PORT="${PORT:-5000}"
FLASK=".venv/bin/flask --app aftercall"
PASSWORD="${DEMO_PASSWORD:-aftercall-demo}"
mkdir -p instance
LOG=instance/first-run.log
: > "$LOG"
python3 scripts/preparing.py "$PORT" "$LOG" &
PREPARING=$!
trap 'kill $PREPARING 2>/dev/null' EXIT INT TERM
echo "Aftercall: preparing the demo; http://127.0.0.1:$PORT shows how far it got"
step() { echo "== $1 $2" | tee -a "$LOG"; }

step 1/5 "installing"
make --no-print-directory install 2>&1 | tee -a "$LOG"
step 2/5 "migrating the database"
$FLASK db upgrade 2>&1 | tee -a "$LOG"
step 3/5 "creating the demo users"
if ! $FLASK users list 2>/dev/null | grep -q "admin@demo.local"; then   # each with a language of their own
  echo "$PASSWORD" | $FLASK users create-admin admin@demo.local --locale en --password-stdin
  echo "$PASSWORD" | $FLASK users create supervisor@demo.local --role supervisor --locale en --password-stdin
  echo "$PASSWORD" | $FLASK users create hr@demo.local --role hr --locale ru --password-stdin
  # Each team's call-backs go round its supervisors (docs/supervisors.md, "Owner").
  echo "$PASSWORD" | $FLASK users create tech-lead@demo.local --role supervisor --locale en --password-stdin
  echo "$PASSWORD" | $FLASK users create sales-lead@demo.local --role supervisor --locale ru --password-stdin
  $FLASK callbacks team supervisor@demo.local billing
  $FLASK callbacks team tech-lead@demo.local tech
  $FLASK callbacks team sales-lead@demo.local sales
fi 2>&1 | tee -a "$LOG"
step 4/5 "emulating a week of calls"
$FLASK demo --if-empty 2>&1 | tee -a "$LOG"
step 5/5 "finding flags"
$FLASK flags recompute --now 2>&1 | tee -a "$LOG"
echo "$PASSWORD" | $FLASK demo-agents --password-stdin 2>&1 | tee -a "$LOG"

kill $PREPARING 2>/dev/null; wait $PREPARING 2>/dev/null || true
# "Call back" rings through an emulated Twilio for as long as this runs, unless a real one is set.
EMULATED=""
if [ -z "${TWILIO_ACCOUNT_SID:-}" ]; then
  export TWILIO_ACCOUNT_SID="AC$(printf '4%.0s' $(seq 32))" TWILIO_FROM_NUMBER="+15005550006"
  export TWILIO_API_BASE_URL="http://127.0.0.1:${DEMO_TWILIO_PORT:-$(( PORT + 1 ))}"
  export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
  .venv/bin/python -m emulator.demo_twilio --port "${TWILIO_API_BASE_URL##*:}" --app "$PUBLIC_BASE_URL" \
    --account-sid "$TWILIO_ACCOUNT_SID" --auth-token "$TWILIO_AUTH_TOKEN" &
  EMULATED=$!
fi
$FLASK worker &
WORKER=$!
trap 'kill $WORKER $EMULATED 2>/dev/null' EXIT INT TERM
echo "Aftercall: http://127.0.0.1:$PORT  users admin@ / supervisor@ / tech-lead@ / sales-lead@ / hr@demo.local, agents farid@ / anna@demo.local, password: $PASSWORD"
.venv/bin/gunicorn --bind "127.0.0.1:$PORT" --workers 2 --threads 4 'aftercall:create_app()'
