"""The job queue on its own: claiming with a lease, retries with backoff, takeover, giving up.

Every test runs on SQLite and on PostgreSQL. Time is moved by writing run_after / lease_until
into the past, never by sleeping.
"""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from lms.db import utcnow
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState


def reload(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def add_job(kind: str = "test.noop", *, max_attempts: int = 5, **payload) -> int:
    job_id = queue.enqueue(kind, payload, max_attempts=max_attempts).id
    db.session.commit()
    return job_id


def expire_lease(job_id: int) -> None:
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def make_due(job_id: int) -> None:
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(run_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_enqueue_then_claim_takes_the_job_with_a_lease(app):
    job_id = add_job(video_id=7)
    before = utcnow()
    assert queue.claim("w1", lease_seconds=30) == job_id
    db.session.commit()
    job = reload(job_id)
    assert job.state == JobState.RUNNING
    assert job.attempts == 1
    assert job.worker_id == "w1"
    assert job.payload == {"video_id": 7}
    assert before + timedelta(seconds=29) <= job.lease_until <= utcnow() + timedelta(seconds=31)
    assert job.heartbeat_at is not None


def test_claim_returns_none_when_nothing_is_due(app):
    assert queue.claim("w1", lease_seconds=30) is None
    job_id = add_job()
    assert queue.claim("w1", lease_seconds=30) == job_id
    db.session.commit()
    # The only job is running with a live lease: nothing for a second worker.
    assert queue.claim("w2", lease_seconds=30) is None


def test_a_job_due_later_is_not_claimed_until_then(app):
    job_id = add_job()
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(run_after=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    assert queue.claim("w1", lease_seconds=30) is None
    make_due(job_id)
    assert queue.claim("w1", lease_seconds=30) == job_id


def test_claim_filters_by_kind_and_takes_the_oldest_due_first(app):
    first = add_job("a")
    second = add_job("b")
    third = add_job("a")
    assert queue.claim("w1", 30, kinds=["b"]) == second
    assert queue.claim("w1", 30, kinds=["b"]) is None
    assert queue.claim("w1", 30) == first
    assert queue.claim("w1", 30) == third
    db.session.commit()


def test_fail_retries_later_with_growing_backoff_then_gives_up_keeping_the_error(app):
    job_id = add_job(max_attempts=3)
    delays = []  # each attempt in its own band: 5..10 s, then 10..20 s
    for attempt in (1, 2):
        assert queue.claim("w1", 30) == job_id
        before = utcnow()
        assert queue.fail(job_id, "w1", f"boom {attempt}") == JobState.FAILED
        db.session.commit()
        job = reload(job_id)
        assert job.state == JobState.FAILED
        assert job.attempts == attempt
        assert job.last_error == f"boom {attempt}"
        assert job.lease_until is None and job.finished_at is None
        delay = (job.run_after - before).total_seconds()
        ceiling = queue.BASE_BACKOFF_SECONDS * 2 ** (attempt - 1)
        assert ceiling / 2 - 1 <= delay <= ceiling + 1
        delays.append(delay)
        assert queue.claim("w1", 30) is None  # not before its run_after
        make_due(job_id)

    assert queue.claim("w1", 30) == job_id
    assert queue.fail(job_id, "w1", "boom 3") == JobState.DEAD
    db.session.commit()
    job = reload(job_id)
    assert (job.state, job.attempts, job.last_error) == (JobState.DEAD, 3, "boom 3")
    assert job.finished_at is not None
    assert not job.active
    make_due(job_id)
    assert queue.claim("w1", 30) is None


def test_backoff_grows_with_attempts_and_its_jitter_stays_in_bounds(monkeypatch):
    for attempts in range(1, 15):
        ceiling = min(queue.MAX_BACKOFF_SECONDS, queue.BASE_BACKOFF_SECONDS * 2 ** (attempts - 1))
        samples = [queue.backoff_seconds(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples), attempts
        assert len(set(samples)) > 1  # jittered, not a fixed delay
    # The bounds themselves: the lowest and highest draw of random.uniform.
    monkeypatch.setattr(queue.random, "uniform", lambda lo, hi: lo)
    assert [queue.backoff_seconds(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    monkeypatch.setattr(queue.random, "uniform", lambda lo, hi: hi)
    assert [queue.backoff_seconds(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert queue.backoff_seconds(50) == queue.MAX_BACKOFF_SECONDS
    assert queue.backoff_seconds(0) == queue.BASE_BACKOFF_SECONDS  # never below the base


def test_fail_without_retry_is_dead_at_once(app):
    job_id = add_job(max_attempts=5)
    queue.claim("w1", 30)
    assert queue.fail(job_id, "w1", "not a video", retry=False) == JobState.DEAD
    db.session.commit()
    job = reload(job_id)
    assert (job.state, job.attempts, job.last_error) == (JobState.DEAD, 1, "not a video")


def test_fail_keeps_long_errors_bounded(app):
    job_id = add_job()
    queue.claim("w1", 30)
    queue.fail(job_id, "w1", "x" * 10_000)
    db.session.commit()
    assert len(reload(job_id).last_error) == 4000


def test_finish_marks_done_with_full_progress(app):
    job_id = add_job()
    queue.claim("w1", 30)
    assert queue.heartbeat(job_id, "w1", 30, progress=0.4, eta_seconds=12)
    db.session.commit()
    job = reload(job_id)
    assert (job.progress, job.eta_seconds) == (0.4, 12)
    assert queue.finish(job_id, "w1")
    db.session.commit()
    job = reload(job_id)
    assert job.state == JobState.DONE
    assert job.progress == 1.0 and job.eta_seconds == 0
    assert job.finished_at is not None and job.lease_until is None
    assert queue.claim("w2", 30) is None
    assert not queue.finish(job_id, "w1")  # only a running job finishes


def test_heartbeat_clamps_progress_and_extends_the_lease(app):
    job_id = add_job()
    queue.claim("w1", 5)
    db.session.commit()
    first_lease = reload(job_id).lease_until
    assert queue.heartbeat(job_id, "w1", 600, progress=7.0)
    db.session.commit()
    job = reload(job_id)
    assert job.progress == 1.0
    assert job.lease_until > first_lease + timedelta(seconds=500)


def test_a_new_attempt_starts_its_progress_from_zero(app):
    job_id = add_job()
    queue.claim("w1", 30)
    queue.heartbeat(job_id, "w1", 30, progress=0.7, eta_seconds=40)
    queue.fail(job_id, "w1", "boom")
    job = reload(job_id)
    job.run_after = job.run_after - timedelta(hours=2)  # its backoff is over
    db.session.commit()
    assert queue.claim("w2", 30) == job_id
    db.session.commit()
    job = reload(job_id)
    assert (job.progress, job.eta_seconds, job.attempts) == (0.0, None, 2)


def test_an_expired_lease_is_taken_over_and_the_crashed_attempt_counts(app):
    job_id = add_job(max_attempts=3)
    assert queue.claim("crashed", 30) == job_id
    db.session.commit()
    assert queue.claim("w2", 30) is None  # the lease is still live
    expire_lease(job_id)
    assert queue.claim("w2", 30) == job_id
    db.session.commit()
    job = reload(job_id)
    assert (job.state, job.worker_id, job.attempts) == (JobState.RUNNING, "w2", 2)
    assert job.lease_until > utcnow()


def test_the_old_worker_loses_the_job_after_a_takeover(app):
    job_id = add_job()
    queue.claim("old", 30)
    db.session.commit()
    expire_lease(job_id)
    assert queue.claim("new", 30) == job_id
    db.session.commit()
    assert not queue.heartbeat(job_id, "old", 30, progress=0.9)
    assert not queue.finish(job_id, "old")
    assert queue.fail(job_id, "old", "late failure") is None
    queue.release(job_id, "old")
    db.session.commit()
    job = reload(job_id)
    assert (job.state, job.worker_id, job.attempts, job.progress) == (JobState.RUNNING, "new", 2, 0.0)
    assert job.last_error is None
    assert queue.heartbeat(job_id, "new", 30)


def test_a_worker_dying_on_the_last_attempt_is_buried_with_a_reason(app):
    job_id = add_job(max_attempts=2)
    other = add_job(max_attempts=2)
    queue.claim("crash-1", 30)
    db.session.commit()
    expire_lease(job_id)
    assert queue.claim("crash-2", 30) == job_id
    db.session.commit()
    expire_lease(job_id)
    # Attempts are used up: no worker can claim it, and it would stay "running" forever.
    assert queue.claim("w3", 30, kinds=["test.noop"]) == other
    assert queue.claim("w3", 30) is None
    db.session.commit()
    assert queue.bury_exhausted() == 1
    db.session.commit()
    job = reload(job_id)
    assert job.state == JobState.DEAD
    assert job.attempts == 2
    assert job.finished_at is not None
    assert "worker stopped responding" in job.last_error
    # A running job with a live lease, or attempts left, is never buried.
    assert reload(other).state == JobState.RUNNING
    assert queue.bury_exhausted() == 0


def test_bury_leaves_an_expired_job_with_attempts_left_for_takeover(app):
    job_id = add_job(max_attempts=3)
    queue.claim("crash-1", 30)
    db.session.commit()
    expire_lease(job_id)
    assert queue.bury_exhausted() == 0
    assert queue.claim("w2", 30) == job_id


def test_release_gives_the_attempt_back(app):
    job_id = add_job(max_attempts=1)
    queue.claim("w1", 30)
    db.session.commit()
    queue.release(job_id, "w1")
    db.session.commit()
    job = reload(job_id)
    assert (job.state, job.attempts, job.lease_until) == (JobState.QUEUED, 0, None)
    # With max_attempts=1 it can only be claimed again because the attempt was given back.
    assert queue.claim("w2", 30) == job_id
    db.session.commit()
    assert reload(job_id).attempts == 1


def test_retry_now_gives_a_dead_job_a_fresh_set_of_attempts(app):
    job_id = add_job(max_attempts=1)
    queue.claim("w1", 30)
    queue.fail(job_id, "w1", "gave up")
    db.session.commit()
    job = reload(job_id)
    assert job.state == JobState.DEAD
    queue.retry_now(job)
    db.session.commit()
    job = reload(job_id)
    assert (job.state, job.attempts, job.last_error, job.finished_at) == (JobState.QUEUED, 0, None, None)
    assert queue.claim("w1", 30) == job_id


def test_a_rolled_back_enqueue_leaves_no_job(app):
    job = queue.enqueue("test.noop", {"video_id": 1})
    assert job.id is not None  # flushed: visible inside the transaction
    db.session.rollback()
    assert db.session.scalars(select(Job)).all() == []
    assert queue.claim("w1", 30) is None


def test_two_workers_never_claim_the_same_job(app):
    """Several threads, each with its own app context and session, race to claim 20 jobs."""
    job_ids = {add_job(n=n) for n in range(20)}
    threads_n = 6
    claimed: dict[str, list[int]] = {f"w{i}": [] for i in range(threads_n)}
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def work(worker_id: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                while True:
                    job_id = queue.claim(worker_id, 30)
                    db.session.commit()
                    if job_id is None:
                        break
                    claimed[worker_id].append(job_id)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    everything = [j for ids in claimed.values() for j in ids]
    assert sorted(everything) == sorted(job_ids)  # each job exactly once
    rows = db.session.execute(select(Job.attempts, Job.state, Job.worker_id)).all()
    assert {(a, s) for a, s, _ in rows} == {(1, JobState.RUNNING)}
    owner = {j: w for w, ids in claimed.items() for j in ids}
    db.session.expire_all()
    for job_id in job_ids:
        assert db.session.get(Job, job_id).worker_id == owner[job_id]
