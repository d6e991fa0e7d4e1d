"""A real worker keeps its worker_heartbeats row: at start, while idle (throttled), on each job,
during a long job (through the lease heartbeat), and marks itself stopped when it exits."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.jobs import queue, worker
from lms.jobs.models import Job, JobState, WorkerHeartbeat, WorkerState
from lms.jobs.worker import Worker
from tests.conftest import TEST_SECRET
from tests.workers import wait_for

ROOT = Path(__file__).resolve().parents[2]


def row(worker_id: str) -> dict | None:
    """The row as another connection sees it (committed only), also from inside a handler."""
    with db.engine.connect() as conn:
        found = conn.execute(select(WorkerHeartbeat.__table__)
                             .where(WorkerHeartbeat.worker_id == worker_id)).mappings().first()
    return dict(found) if found else None


@pytest.fixture
def handlers(app):
    """Test-only job kinds, removed afterwards (as in tests/jobs)."""
    added = {}

    def add(kind, fn):
        assert kind not in worker.HANDLERS
        worker.HANDLERS[kind] = added[kind] = fn

    yield add
    for kind in added:
        worker.HANDLERS.pop(kind, None)


def enqueue(kind: str) -> int:
    job_id = queue.enqueue(kind, {}).id
    db.session.commit()
    return job_id


def test_a_draining_worker_leaves_a_stopped_row_with_its_count(app, handlers):
    handlers("ops.ok", lambda ctx: None)
    enqueue("ops.ok")
    enqueue("ops.ok")
    runner = Worker(app, lease_seconds=30, poll_seconds=0.05)
    assert runner.run(drain=True) == 2
    beat = row(runner.id)
    assert beat["state"] == WorkerState.STOPPED and beat["jobs_done"] == 2
    assert (beat["hostname"], beat["pid"], beat["current_job_id"]) == (runner.hostname, os.getpid(), None)
    assert beat["started_at"] <= beat["last_seen_at"]


def test_busy_with_the_job_then_idle_and_throttled(app, handlers):
    seen_inside = {}
    release = threading.Event()
    runner = Worker(app, lease_seconds=30, poll_seconds=0.02)

    def hold(ctx):
        seen_inside.update(row(runner.id))
        release.wait(10)
    handlers("ops.hold", hold)
    job_id = enqueue("ops.hold")
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        assert wait_for(lambda: seen_inside, 10)
        assert (seen_inside["state"], seen_inside["current_job_id"]) == (WorkerState.BUSY, job_id)
        release.set()
        assert wait_for(lambda: (row(runner.id) or {}).get("jobs_done") == 1, 10)
        after_job = row(runner.id)
        assert (after_job["state"], after_job["current_job_id"]) == (WorkerState.IDLE, None)
        time.sleep(0.5)  # some 25 idle polls: none of them rewrites the row within BEAT_SECONDS
        assert row(runner.id)["last_seen_at"] == after_job["last_seen_at"]
    finally:
        release.set()
        runner.stop.set()
        thread.join(10)
    assert row(runner.id)["state"] == WorkerState.STOPPED


def test_a_long_job_keeps_its_worker_fresh_through_the_lease_heartbeat(app, handlers):
    runner = Worker(app, lease_seconds=4, poll_seconds=0.02)  # the lease heartbeat beats every second
    refreshed = {}

    def long_job(ctx):
        first = row(runner.id)["last_seen_at"]
        later = wait_for(lambda: row(runner.id)["last_seen_at"] > first and row(runner.id), 5, interval=0.1)
        refreshed.update(later or {})
    handlers("ops.long", long_job)
    job_id = enqueue("ops.long")
    assert runner.run(drain=True) == 1
    assert refreshed, "the worker row was not refreshed during the job"
    assert (refreshed["state"], refreshed["current_job_id"]) == (WorkerState.BUSY, job_id)
    assert db.session.get(WorkerHeartbeat, runner.id).state == WorkerState.STOPPED
    assert db.session.get(Job, job_id).state == JobState.DONE


def start_worker_process(app, tmp_path) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "FLASK_"))}
    env.update(FLASK_APP="lms", PYTHONUNBUFFERED="1", LMS_DATABASE_URL=app.config["DATABASE_URL"],
               LMS_SECRET_KEY=TEST_SECRET, LMS_INSTANCE_PATH=str(tmp_path / "instance"),
               LMS_MEDIA_ROOT=app.config["MEDIA_ROOT"])
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "lms", "worker"], env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, log


def test_a_killed_workers_row_is_marked_dead_by_the_next_sweep_and_forgotten_later(app, tmp_path, handlers):
    proc, log = start_worker_process(app, tmp_path)
    try:
        beat = wait_for(lambda: db.session.scalar(select(WorkerHeartbeat).where(
            WorkerHeartbeat.pid == proc.pid, WorkerHeartbeat.state == WorkerState.IDLE)), 30, interval=0.1)
        assert beat is not None, log.read_text(errors="replace")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no chance to say "stopped"
        proc.wait(10)
    killed = beat.worker_id
    db.session.add(WorkerHeartbeat(worker_id="gone-for-a-week", hostname="old", pid=1, state=WorkerState.DEAD,
                                   last_seen_at=datetime.now(UTC) - timedelta(days=8)))
    db.session.commit()
    app.config["WORKER_STALE_SECONDS"] = 1
    time.sleep(1.5)
    assert row(killed)["state"] == WorkerState.IDLE  # nobody has swept yet: it still claims to be idle
    runner = Worker(app, lease_seconds=30, poll_seconds=0.05)
    runner.run(drain=True)  # a worker sweeps when it starts (and hourly)
    assert row(killed)["state"] == WorkerState.DEAD and row(killed)["current_job_id"] is None
    assert row("gone-for-a-week") is None
    assert row(runner.id)["state"] == WorkerState.STOPPED  # a clean exit stays "stopped", not dead
    response = app.test_client().get("/healthz/workers")
    listed = {w["worker_id"]: w["state"] for w in response.get_json()["workers"]}
    assert response.status_code == 503 and response.get_json()["workers_alive"] == 0
    assert listed.get(killed) == "dead"
    assert app.test_cli_runner().invoke(args=["lms", "worker-health"]).exit_code == 1  # nobody alive


def test_a_real_worker_process_reports_and_marks_itself_stopped_on_sigterm(app, tmp_path):
    proc, log = start_worker_process(app, tmp_path)
    try:
        beat = wait_for(lambda: db.session.scalar(select(WorkerHeartbeat).where(
            WorkerHeartbeat.pid == proc.pid, WorkerHeartbeat.state == WorkerState.IDLE)), 30, interval=0.1)
        assert beat is not None, log.read_text(errors="replace")
        worker_id = beat.worker_id
        assert f"worker {worker_id} started" in log.read_text()
        assert app.test_cli_runner().invoke(args=["lms", "worker-health"]).exit_code == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert row(worker_id)["state"] == WorkerState.STOPPED
    assert app.test_cli_runner().invoke(args=["lms", "worker-health"]).exit_code == 1
