#!/usr/bin/env bash
# `make run`: the web app and one worker side by side; Ctrl+C stops both.
set -euo pipefail
BIN="${BIN:-.venv/bin}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
export FLASK_APP=lms

"$BIN/flask" lms worker &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null' EXIT INT TERM
"$BIN/flask" run --host "$HOST" --port "$PORT"
