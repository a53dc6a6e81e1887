#!/usr/bin/env bash
# Debian's wrk, the load generator of the webhook benchmark (bench/webhook_bench.py).
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing Debian's wrk"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
wrk --version 2>&1 | head -n 1 || true
