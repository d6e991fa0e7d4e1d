"""`flask lms jobs list|retry|cancel`, as an operator runs them."""
from __future__ import annotations

from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState
from lms.jobs.worker import Heartbeat, JobContext


def add(kind: str = "transcode") -> int:
    job_id = queue.enqueue(kind, {"video_id": 1}).id
    db.session.commit()
    return job_id


def state(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_list_shows_the_queue_with_errors_and_filters(app, runner):
    dead, queued = add(), add("game_build")
    queue.claim("w1", 30, kinds=["transcode"])
    queue.fail(dead, "w1", "MediaToolError: ffmpeg exited with 1\nmore", retry=False)
    db.session.commit()
    out = runner.invoke(args=["lms", "jobs", "list"]).output
    assert f"{dead:>7}  transcode" in out and "dead" in out and "MediaToolError: ffmpeg exited with 1" in out
    assert "more" not in out and f"{queued:>7}  game_build" in out
    only_dead = runner.invoke(args=["lms", "jobs", "list", "--state", "dead"]).output
    assert "transcode" in only_dead and "game_build" not in only_dead


def test_retry_gives_a_dead_job_fresh_attempts_and_refuses_others(app, runner):
    job_id = add()
    queue.claim("w1", 30)
    queue.fail(job_id, "w1", "boom", retry=False)
    db.session.commit()
    result = runner.invoke(args=["lms", "jobs", "retry", str(job_id)])
    assert result.exit_code == 0 and "queued again" in result.output
    assert (state(job_id).state, state(job_id).attempts) == (JobState.QUEUED, 0)
    again = runner.invoke(args=["lms", "jobs", "retry", str(job_id)])
    assert again.exit_code != 0 and "only dead or failed jobs" in again.output
    assert "There is no job 999999" in runner.invoke(args=["lms", "jobs", "retry", "999999"]).output


def test_cancel_stops_a_running_job_whose_worker_then_lets_go(app, runner):
    job_id = add()
    assert queue.claim("w1", 30) == job_id
    db.session.commit()
    result = runner.invoke(args=["lms", "jobs", "cancel", str(job_id), "--reason", "bad upload loop"])
    assert result.exit_code == 0 and "was running; it is cancelled" in result.output
    job = state(job_id)
    assert (job.state, job.worker_id, job.last_error) == (JobState.DEAD, None, "bad upload loop")
    ctx = JobContext(job_id=job_id, attempt=1, payload={}, worker_id="w1")
    Heartbeat(app, ctx, 30).beat()  # the running worker's next beat
    assert ctx.cancel.is_set()
    assert runner.invoke(args=["lms", "jobs", "cancel", str(job_id)]).exit_code != 0
