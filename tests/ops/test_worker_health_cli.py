"""`flask lms worker-health`: exit 0 while some worker's heartbeat is fresh, 1 otherwise."""
from __future__ import annotations

from lms.jobs.models import JobState, WorkerState


def check(runner, *args):
    return runner.invoke(args=["lms", "worker-health", *args])


def test_no_worker_at_all_fails(runner):
    result = check(runner)
    assert result.exit_code == 1 and "0 worker(s) alive" in result.output


def test_stale_and_stopped_workers_do_not_count(runner, rows):
    rows.worker(seconds_ago=3600, hostname="gone")
    rows.worker(state=WorkerState.STOPPED, hostname="stopped")
    result = check(runner)
    assert result.exit_code == 1
    assert "STALE" in result.output and "stopped" not in result.output


def test_a_fresh_worker_passes_and_is_listed_with_the_queue(runner, rows):
    job = rows.job(state=JobState.RUNNING)
    rows.worker(state=WorkerState.BUSY, job_id=job.id, jobs_done=2, hostname="alive")
    rows.job(state=JobState.DEAD, error="boom")
    result = check(runner)
    assert result.exit_code == 0, result.output
    assert "alive:" in result.output and "busy" in result.output
    assert "queued 0, running 1, failed 0, dead 1" in result.output
    assert "1 worker(s) alive" in result.output


def test_the_threshold_can_be_given(runner, rows):
    rows.worker(seconds_ago=20)
    assert check(runner).exit_code == 0
    assert check(runner, "--stale-after", "5").exit_code == 1
