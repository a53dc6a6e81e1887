#!/usr/bin/env bash
# Web + worker on the embedded default: one command, no servers. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-demo-auth-token}"
BIN=.venv/bin
$BIN/flask --app aftercall worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null' EXIT INT TERM
echo "Aftercall on http://127.0.0.1:${PORT:-5000}  (worker pid $WORKER)"
$BIN/gunicorn --bind "127.0.0.1:${PORT:-5000}" --workers 2 --threads 4 'aftercall:create_app()'
