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

# The worker under a supervisor loop: if it dies (killed, out of memory, a bug), start another.
# Outages of the database do not end it: it waits them out by itself.
(
  child=
  trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 0' TERM INT
  while true; do
    "$BIN/flask" lms worker &
    child=$!
    status=0
    wait "$child" || status=$?
    child=
    echo "serve.sh: the worker stopped (exit status $status); starting a new one in 2 s" >&2
    sleep 2 &
    wait $! || true
  done
) &
worker=$!
"$BIN/flask" lms sandbox --host "$HOST" --port "$SANDBOX_PORT" &
sandbox=$!
# In the background too, so a SIGTERM to this script is handled at once (bash defers traps until a
# foreground command ends) and stops all three.
"$BIN/flask" run --host "$HOST" --port "$PORT" &
web=$!
trap 'kill -TERM "$web" "$worker" "$sandbox" 2>/dev/null; wait "$web" "$worker" "$sandbox" 2>/dev/null' EXIT INT TERM
wait "$web"
