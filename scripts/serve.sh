#!/usr/bin/env bash
# `make run`: the web app, one worker and the game-build sandbox side by side; Ctrl+C stops all.
set -euo pipefail
BIN="${BIN:-.venv/bin}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
SANDBOX_PORT="${SANDBOX_PORT:-5001}"
export FLASK_APP=lms

# The sandbox needs another HOST, not just another port: cookies and "same-site" ignore ports.
# Both name the loopback interface, so the one listener serves both names.
if [ "$HOST" = "localhost" ]; then sandbox_host=127.0.0.1; else sandbox_host=localhost; fi
export LMS_APP_ORIGIN="${LMS_APP_ORIGIN:-http://$HOST:$PORT}"
export LMS_SANDBOX_ORIGIN="${LMS_SANDBOX_ORIGIN:-http://$sandbox_host:$SANDBOX_PORT}"
echo "Game builds are served from $LMS_SANDBOX_ORIGIN/ (the sandbox origin)"

"$BIN/flask" lms worker &
worker=$!
"$BIN/flask" lms sandbox --host "$HOST" --port "$SANDBOX_PORT" &
sandbox=$!
trap 'kill -TERM "$worker" "$sandbox" 2>/dev/null; wait "$worker" "$sandbox" 2>/dev/null' EXIT INT TERM
"$BIN/flask" run --host "$HOST" --port "$PORT"
