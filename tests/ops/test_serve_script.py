"""`make run`'s scripts/serve.sh: a worker that dies is started again, and stopping the script stops
everything it started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET
from tests.postgres import free_port
from tests.workers import ROOT, live_processes, wait_for


def group_workers(pgid: int) -> list[int]:
    """Pids of `flask lms worker` processes in the script's process group."""
    return [pid for pid, cmdline, group in live_processes() if group == pgid and "lms worker" in cmdline]


def test_a_dead_worker_is_restarted_and_stopping_the_script_stops_all(tmp_path):
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "FLASK_"))}
    env.update(BIN=bin_dir, HOST="127.0.0.1", PORT=str(free_port()), SANDBOX_PORT=str(free_port()),
               LMS_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}", LMS_SECRET_KEY=TEST_SECRET,
               LMS_INSTANCE_PATH=str(tmp_path / "instance"), LMS_MEDIA_ROOT=str(tmp_path / "media"),
               FLASK_APP="lms", PYTHONUNBUFFERED="1")
    subprocess.run([f"{bin_dir}/flask", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True,
                   timeout=120)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        script = subprocess.Popen(["bash", "scripts/serve.sh"], env=env, cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        first = wait_for(lambda: group_workers(script.pid), 60)
        assert len(first) == 1, log.read_text()
        os.kill(first[0], signal.SIGKILL)
        again = wait_for(lambda: [p for p in group_workers(script.pid) if p not in first], 30)
        assert len(again) == 1, log.read_text()
        assert "the worker stopped (exit status 137); starting a new one" in log.read_text()
        script.send_signal(signal.SIGTERM)
        script.wait(timeout=30)
        assert wait_for(lambda: not group_workers(script.pid), 15), log.read_text()
    finally:
        try:
            os.killpg(script.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        script.wait(timeout=10)
