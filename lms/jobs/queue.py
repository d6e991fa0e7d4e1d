"""Enqueue, claim with a lease, heartbeat, finish, retry with backoff, give up.

Claiming is one atomic UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING: PostgreSQL adds
FOR UPDATE SKIP LOCKED so concurrent workers pass over each other's rows; SQLite serializes writers,
so the single statement is atomic there too. Attempts count at claim time, so a job that kills its
worker still runs out of attempts. Every function here flushes or executes; the caller commits.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from lms.db import utcnow
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.messages import without_paths

BASE_BACKOFF_SECONDS = 10
MAX_BACKOFF_SECONDS = 3600


def enqueue(kind: str, payload: dict, *, max_attempts: int = 5) -> Job:
    """Add a job in the caller's transaction, so it exists exactly when the data it works on does."""
    job = Job(kind=kind, payload=payload, max_attempts=max_attempts, state=JobState.QUEUED,
              run_after=utcnow())
    db.session.add(job)
    db.session.flush()
    return job


def _claimable(now):
    waiting = and_(Job.state.in_([JobState.QUEUED, JobState.FAILED]), Job.run_after <= now)
    abandoned = and_(Job.state == JobState.RUNNING, Job.lease_until < now)
    return and_(or_(waiting, abandoned), Job.attempts < Job.max_attempts)


def claim(worker_id: str, lease_seconds: int, kinds: list[str] | None = None) -> int | None:
    """Take the next due job (or one whose worker's lease ran out); returns its id or None."""
    now = utcnow()
    pick = select(Job.id).where(_claimable(now)).order_by(Job.run_after, Job.id).limit(1)
    if kinds:
        pick = pick.where(Job.kind.in_(kinds))
    if db.engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (update(Job).where(Job.id == pick.scalar_subquery())
                 .values(state=JobState.RUNNING, attempts=Job.attempts + 1, worker_id=worker_id,
                         lease_until=now + timedelta(seconds=lease_seconds), heartbeat_at=now,
                         updated_at=now, progress=0.0, eta_seconds=None)  # a new attempt starts from 0 %
                 .returning(Job.id)
                 .execution_options(synchronize_session=False))
    return db.session.execute(statement).scalar()


def bury_exhausted() -> int:
    """Jobs whose worker died on their last attempt can never be claimed again: mark them dead."""
    now = utcnow()
    result = db.session.execute(
        update(Job).where(Job.state == JobState.RUNNING, Job.lease_until < now,
                          Job.attempts >= Job.max_attempts)
        .values(state=JobState.DEAD, finished_at=now, updated_at=now,
                last_error="The worker stopped responding during the last attempt (killed or out of memory).")
        .execution_options(synchronize_session=False))
    return result.rowcount


def _mine(job_id: int, worker_id: str):
    return and_(Job.id == job_id, Job.worker_id == worker_id, Job.state == JobState.RUNNING)


def heartbeat(job_id: int, worker_id: str, lease_seconds: int, progress: float | None = None,
              eta_seconds: int | None = None) -> bool:
    """Extend the lease; False when another worker took the job over (stop working on it)."""
    now = utcnow()
    values = {"lease_until": now + timedelta(seconds=lease_seconds), "heartbeat_at": now}
    if progress is not None:
        values.update(progress=max(0.0, min(1.0, progress)), eta_seconds=eta_seconds)
    result = db.session.execute(update(Job).where(_mine(job_id, worker_id)).values(**values)
                                .execution_options(synchronize_session=False))
    return result.rowcount == 1


def finish(job_id: int, worker_id: str) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(Job).where(_mine(job_id, worker_id))
        .values(state=JobState.DONE, progress=1.0, eta_seconds=0, finished_at=now, lease_until=None,
                updated_at=now, last_error=None)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter, so retries of many failed jobs do not stampede."""
    ceiling = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def fail(job_id: int, worker_id: str, error: str, *, retry: bool = True) -> JobState | None:
    """Record a failure: retried later while attempts remain and `retry` holds, else dead."""
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.worker_id != worker_id or job.state != JobState.RUNNING:
        return None
    now = utcnow()
    job.last_error = without_paths(error)[:4000]  # shown to admins: the server's folders are not theirs to see
    job.lease_until = None
    if retry and job.attempts < job.max_attempts:
        job.state = JobState.FAILED
        job.run_after = now + timedelta(seconds=backoff_seconds(job.attempts))
    else:
        job.state = JobState.DEAD
        job.finished_at = now
    db.session.flush()
    return job.state


def release(job_id: int, worker_id: str) -> None:
    """Give a job back untouched (the worker is shutting down): this attempt does not count."""
    db.session.execute(
        update(Job).where(_mine(job_id, worker_id))
        .values(state=JobState.QUEUED, attempts=Job.attempts - 1, lease_until=None, run_after=utcnow())
        .execution_options(synchronize_session=False))


def retry_now(job: Job) -> None:
    """A person asked for another try of a dead job: a fresh set of attempts."""
    job.state, job.attempts, job.run_after = JobState.QUEUED, 0, utcnow()
    job.last_error, job.progress, job.eta_seconds, job.finished_at = None, 0.0, None, None
    db.session.flush()


def cancel(job: Job, reason: str) -> None:
    """An operator stops a job for good. A running one loses its worker (whose next heartbeat finds
    the job gone and stops its ffmpeg), exactly as a takeover would."""
    now = utcnow()
    job.state, job.worker_id, job.lease_until, job.finished_at = JobState.DEAD, None, None, now
    job.last_error = reason[:4000]
    db.session.flush()
