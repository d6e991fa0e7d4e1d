"""The worker loop in-process: outcomes of handlers, poison jobs, the heartbeat, cancelling.

Test-only handlers are registered in lms.jobs.worker.HANDLERS by a fixture and removed afterwards.
"""
from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.db import utcnow
from lms.extensions import db
from lms.jobs import queue, worker
from lms.jobs.models import Job, JobState
from lms.jobs.worker import PermanentError, Worker
from tests.workers import wait_for


def reload(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def add_job(kind: str, *, max_attempts: int = 5, **payload) -> int:
    job_id = queue.enqueue(kind, payload, max_attempts=max_attempts).id
    db.session.commit()
    return job_id


def read_job(job_id: int) -> dict:
    """The row as another connection sees it (committed data only), from inside a handler."""
    with db.engine.connect() as conn:
        return dict(conn.execute(select(Job.__table__).where(Job.id == job_id)).mappings().one())


class Calls:
    def __init__(self):
        self.log: list[tuple[str, int, int, dict]] = []  # (kind, job id, attempt, payload)
        self.seen: dict = {}
        self.hooks: dict = {}

    def kinds(self) -> list[str]:
        return [kind for kind, *_ in self.log]


@pytest.fixture
def calls(app):
    calls = Calls()

    def record(kind):
        def fn(ctx):
            calls.log.append((kind, ctx.job_id, ctx.attempt, ctx.payload))
            hook = calls.hooks.get(kind)
            if hook is not None:
                hook(ctx)
        return fn

    def ok(ctx):
        pass

    def poison(ctx):
        raise RuntimeError(f"poison pill #{ctx.attempt}")

    def permanent(ctx):
        raise PermanentError("This file can never be transcoded.")

    registered = {}
    for kind, body in {"test.ok": ok, "test.poison": poison, "test.permanent": permanent,
                       "test.hook": ok}.items():
        recorder = record(kind)

        def handler(ctx, recorder=recorder, body=body):
            recorder(ctx)
            body(ctx)
        registered[kind] = handler
    assert not set(registered) & set(worker.HANDLERS)
    worker.HANDLERS.update(registered)
    yield calls
    for kind in registered:
        worker.HANDLERS.pop(kind, None)


def run(app, **kw) -> int:
    kw.setdefault("lease_seconds", 30)
    kw.setdefault("poll_seconds", 0.05)
    count = Worker(app, **kw).run(drain=True)
    db.session.expire_all()
    return count


def test_a_handler_that_succeeds_marks_the_job_done(app, calls):
    job_id = add_job("test.ok", lesson=3)
    assert run(app) == 1
    job = reload(job_id)
    assert (job.state, job.attempts, job.progress, job.last_error) == (JobState.DONE, 1, 1.0, None)
    assert job.finished_at is not None and job.lease_until is None
    assert calls.log == [("test.ok", job_id, 1, {"lesson": 3})]
    assert run(app) == 0  # nothing left; drain stops at once


def test_a_poison_job_backs_off_and_dies_while_later_jobs_still_run(app, calls, monkeypatch):
    monkeypatch.setattr(queue, "backoff_seconds", lambda attempts: 0)
    poison = add_job("test.poison", max_attempts=3)
    good = add_job("test.ok")
    assert run(app) == 4
    job = reload(poison)
    assert (job.state, job.attempts) == (JobState.DEAD, 3)
    assert job.last_error == "RuntimeError: poison pill #3"
    assert job.finished_at is not None
    assert reload(good).state == JobState.DONE
    # The good job did not wait behind every retry of the poison one.
    assert calls.kinds() == ["test.poison", "test.ok", "test.poison", "test.poison"]
    assert [attempt for kind, _, attempt, _ in calls.log if kind == "test.poison"] == [1, 2, 3]


def test_a_poison_job_waits_out_its_backoff_between_rounds(app, calls):
    poison = add_job("test.poison", max_attempts=2)
    good = add_job("test.ok")
    assert run(app) == 2  # the poison job failed once, then is not due; the good one ran
    job = reload(poison)
    assert job.state == JobState.FAILED
    assert job.last_error == "RuntimeError: poison pill #1"
    assert job.run_after > utcnow() + timedelta(seconds=queue.BASE_BACKOFF_SECONDS / 2 - 2)
    assert reload(good).state == JobState.DONE
    assert run(app) == 0  # still backing off
    db.session.execute(update(Job).where(Job.id == poison).values(run_after=utcnow()))
    db.session.commit()
    assert run(app) == 1
    job = reload(poison)
    assert (job.state, job.attempts, job.last_error) == (JobState.DEAD, 2, "RuntimeError: poison pill #2")


def test_a_permanent_error_is_dead_at_once_without_retry(app, calls):
    job_id = add_job("test.permanent", max_attempts=5)
    assert run(app) == 1
    job = reload(job_id)
    assert (job.state, job.attempts) == (JobState.DEAD, 1)
    assert job.last_error == "This file can never be transcoded."
    assert calls.kinds() == ["test.permanent"]
    db.session.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
    db.session.commit()
    assert run(app) == 0


def test_an_unknown_kind_is_dead_with_a_reason(app, calls):
    job_id = add_job("test.nobody-handles-this")
    assert run(app) == 1
    job = reload(job_id)
    assert (job.state, job.attempts) == (JobState.DEAD, 1)
    assert "No handler" in job.last_error and "test.nobody-handles-this" in job.last_error


def test_handler_changes_are_rolled_back_when_it_fails(app, calls, make):
    """A failing handler's half-done writes are not committed with the failure record."""
    course = make.course()

    def half_done(ctx):
        db.session.execute(update(Job).where(Job.id == ctx.job_id).values(eta_seconds=999))
        from lms.catalog.models import Course
        db.session.get(Course, ctx.payload["course_id"]).title_en = "Half-written"
        db.session.flush()
        raise RuntimeError("crashed half-way")

    calls.hooks["test.hook"] = half_done
    job_id = add_job("test.hook", course_id=course.id)
    assert run(app) == 1
    job = reload(job_id)
    assert job.state == JobState.FAILED and job.eta_seconds is None
    db.session.refresh(course)
    assert course.title_en != "Half-written"


def test_progress_reported_by_the_handler_reaches_the_row_through_the_heartbeat(app, calls):
    def slow(ctx):
        ctx.report(0.42, 17)
        calls.seen["row"] = wait_for(lambda: (r := read_job(ctx.job_id))["progress"] == 0.42 and r, 6)
        first_lease = calls.seen["row"] and calls.seen["row"]["lease_until"]
        ctx.report(0.9, 2)
        calls.seen["later"] = wait_for(
            lambda: (r := read_job(ctx.job_id))["progress"] == 0.9 and r["lease_until"] > first_lease and r, 6)

    calls.hooks["test.hook"] = slow
    job_id = add_job("test.hook")
    assert run(app, lease_seconds=2) == 1
    assert calls.seen["row"], "the heartbeat never wrote the reported progress"
    assert calls.seen["row"]["eta_seconds"] == 17
    assert calls.seen["row"]["state"] == JobState.RUNNING
    assert calls.seen["later"], "the heartbeat stopped extending the lease or writing progress"
    assert calls.seen["later"]["eta_seconds"] == 2
    job = reload(job_id)
    assert (job.state, job.progress, job.eta_seconds) == (JobState.DONE, 1.0, 0)


def test_the_heartbeat_keeps_a_long_job_from_being_taken_over(app, calls):
    def longer_than_the_lease(ctx):
        stolen = []
        deadline = time.monotonic() + 3.6  # well past the first lease
        while time.monotonic() < deadline:
            with app.app_context():
                stolen.append(queue.claim("intruder", 3))
                db.session.commit()
            time.sleep(0.2)
        calls.seen["stolen"] = [s for s in stolen if s is not None]
        ctx.check()  # not cancelled: still ours

    calls.hooks["test.hook"] = longer_than_the_lease
    job_id = add_job("test.hook")
    assert run(app, lease_seconds=3) == 1  # beats every second: two seconds of slack
    assert calls.seen["stolen"] == []
    job = reload(job_id)
    assert (job.state, job.attempts) == (JobState.DONE, 1)


def test_a_taken_over_job_is_cancelled_and_left_to_the_new_worker(app, calls):
    def taken_over(ctx):
        with db.engine.begin() as conn:  # what another worker's claim after a missed lease does
            conn.execute(update(Job).where(Job.id == ctx.job_id)
                         .values(worker_id="someone-else", attempts=Job.attempts + 1))
        calls.seen["cancelled"] = ctx.cancel.wait(6)
        ctx.check()
        calls.seen["went on"] = True

    calls.hooks["test.hook"] = taken_over
    job_id = add_job("test.hook")
    assert run(app, lease_seconds=2) == 0  # the new worker does it; this one did not
    assert calls.seen["cancelled"] is True
    assert "went on" not in calls.seen
    job = reload(job_id)
    # Neither finished, failed nor released by the worker that lost it.
    assert (job.state, job.worker_id, job.attempts, job.last_error) == (JobState.RUNNING, "someone-else", 2, None)


def test_sigterm_hands_the_running_job_back_without_spending_an_attempt(app, calls, monkeypatch):
    installed = {}
    monkeypatch.setattr(worker.signal, "signal", lambda signum, fn: installed.__setitem__(signum, fn))

    def interrupted(ctx):
        installed[signal.SIGTERM](signal.SIGTERM, None)  # as if the process got SIGTERM now
        calls.seen["cancel"] = ctx.cancel.is_set()
        ctx.check()

    calls.hooks["test.hook"] = interrupted
    job_id = add_job("test.hook", max_attempts=1)
    later = add_job("test.ok")
    w = Worker(app, lease_seconds=30, poll_seconds=0.05)
    w.install_signal_handlers()
    assert set(installed) == {signal.SIGTERM, signal.SIGINT}
    assert w.run() == 0  # not drain: it stops because of the signal; a job handed back is not done
    assert calls.seen["cancel"] is True
    job = reload(job_id)
    assert (job.state, job.attempts, job.lease_until, job.last_error) == (JobState.QUEUED, 0, None, None)
    assert reload(later).state == JobState.QUEUED  # no new job claimed after the signal
    del calls.hooks["test.hook"]
    assert run(app) == 2  # the next worker runs both, the handed-back one with its only attempt
    assert reload(job_id).state == JobState.DONE


def test_sigterm_arriving_during_the_claim_hands_the_claimed_job_back(app, calls, monkeypatch):
    """The signal can land after the claim's UPDATE and before there is a handler to cancel.

    The worker must still stop without running the job (which may be a transcode of hours, and
    would be killed half-way by the service manager's stop timeout) and give its attempt back.
    """
    installed = {}
    monkeypatch.setattr(worker.signal, "signal", lambda signum, fn: installed.__setitem__(signum, fn))
    real_claim = queue.claim

    def claim_then_signal(*args, **kwargs):
        job_id = real_claim(*args, **kwargs)
        installed[signal.SIGTERM](signal.SIGTERM, None)
        return job_id

    monkeypatch.setattr(queue, "claim", claim_then_signal)
    job_id = add_job("test.ok", max_attempts=1)
    w = Worker(app, lease_seconds=30, poll_seconds=0.05)
    w.install_signal_handlers()
    assert w.run() == 0
    assert calls.log == []
    job = reload(job_id)
    assert (job.state, job.attempts, job.lease_until) == (JobState.QUEUED, 0, None)


def test_workers_running_side_by_side_run_each_job_once(app, calls):
    """Four workers in threads drain 20 jobs: every job runs once, on one worker, and is done."""
    def sometimes_slow(ctx):
        time.sleep(0.01 * (ctx.payload["n"] % 3))

    calls.hooks["test.hook"] = sometimes_slow
    job_ids = [add_job("test.hook", n=n) for n in range(20)]
    workers = [Worker(app, lease_seconds=30, poll_seconds=0.05) for _ in range(4)]
    counts, errors = {}, []

    def drain(w):
        try:
            counts[w.id] = w.run(drain=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert sorted(job_id for _, job_id, _, _ in calls.log) == sorted(job_ids)
    assert sum(counts.values()) == 20
    db.session.expire_all()
    rows = db.session.execute(select(Job.state, Job.attempts, Job.worker_id)).all()
    assert {(state, attempts) for state, attempts, _ in rows} == {(JobState.DONE, 1)}
    assert {worker_id for *_, worker_id in rows} <= set(counts)


def test_each_job_event_is_one_json_line_with_its_job_and_duration(app, calls, caplog, monkeypatch):
    import json

    from prometheus_client import REGISTRY

    def observed(kind, outcome):
        return REGISTRY.get_sample_value("lms_job_duration_seconds_count", {"kind": kind, "outcome": outcome}) or 0

    monkeypatch.setattr(queue, "backoff_seconds", lambda attempts: 0)
    caplog.set_level("INFO", logger="lms.jobs.events")
    ok, poison = add_job("test.ok"), add_job("test.poison", max_attempts=2)
    finished, died = observed("test.ok", "finish"), observed("test.poison", "dead")
    run(app)
    assert (observed("test.ok", "finish"), observed("test.poison", "dead")) == (finished + 1, died + 1)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "lms.jobs.events"]
    seen = [(e["event"], e["job_id"], e["attempt"]) for e in lines]
    assert ("claim", ok, 1) in seen and ("finish", ok, 1) in seen
    assert ("retry", poison, 1) in seen and ("dead", poison, 2) in seen
    finish = next(e for e in lines if e["event"] == "finish")
    assert finish["kind"] == "test.ok" and finish["duration_s"] >= 0 and finish["worker"] and finish["ts"].endswith("Z")
    assert "poison" in next(e for e in lines if e["event"] == "dead")["error"].lower()
