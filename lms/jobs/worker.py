"""`flask lms worker`: claim a job, run its handler with a heartbeat, record the outcome, repeat.

Several workers may run, on several machines against PostgreSQL. SIGTERM stops claiming, cancels
the running handler (its ffmpeg is killed) and hands the job back without spending an attempt.
Each worker keeps a row in worker_heartbeats (lms.jobs.health) fresh, for health checks.
"""
from __future__ import annotations

import logging
import os
import signal
import tempfile
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import update

from lms.db import utcnow
from lms.extensions import db
from lms.jobs import events, health, queue
from lms.jobs.models import Job, JobState, WorkerState
from lms.jobs.outage import Backoff, is_outage, reason as _reason, reset_session, retry_through_outage

log = logging.getLogger(__name__)
HANDLERS: dict[str, Callable[[JobContext], None]] = {}
BEAT_SECONDS = 5.0  # idle workers refresh their health row this often, not on every poll
PRUNE_SECONDS = 3600.0  # and forget the rows of workers long gone this often
SCHEDULE_SECONDS = 60.0  # and look whether a periodic job (lms.jobs.schedule) is due this often


def handler(kind: str):
    def register(fn: Callable[[JobContext], None]):
        HANDLERS[kind] = fn
        return fn
    return register


class PermanentError(Exception):
    """The job can never succeed (for example, the upload is not a video): no retry."""


class Cancelled(Exception):
    """The worker is stopping, or another worker took the job over."""


@dataclass
class JobContext:
    job_id: int
    attempt: int
    payload: dict
    worker_id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    shutting_down: bool = False
    _progress: tuple[float, int | None] | None = None
    kind: str = ""
    started: float | None = None  # time.monotonic() when the handler began

    def event(self, name: str, **fields) -> None:
        events.emit(name, job_id=self.job_id, kind=self.kind, worker_id=self.worker_id, attempt=self.attempt,
                    started=self.started, **fields)

    def report(self, fraction: float, eta_seconds: int | None = None) -> None:
        """Progress for the people watching; the heartbeat thread writes it."""
        self._progress = (fraction, eta_seconds)

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()


class Heartbeat(threading.Thread):
    """Extends the lease on its own connection, so a long ffmpeg run never looks abandoned."""

    def __init__(self, app: Flask, ctx: JobContext, lease_seconds: int,
                 on_beat: Callable[[], None] | None = None):
        super().__init__(daemon=True, name=f"heartbeat-{ctx.job_id}")
        self.app, self.ctx, self.lease = app, ctx, lease_seconds
        self.on_beat = on_beat  # a long job keeps its worker's health row fresh too
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = max(1.0, self.lease / 4)
        while not self.stopped.wait(interval):
            self.beat()

    def beat(self) -> None:
        from datetime import timedelta

        now = utcnow()
        values = {"lease_until": now + timedelta(seconds=self.lease), "heartbeat_at": now}
        if self.ctx._progress is not None:
            fraction, eta = self.ctx._progress
            values.update(progress=max(0.0, min(1.0, fraction)), eta_seconds=eta)
        try:
            with self.app.app_context(), db.engine.begin() as conn:
                rows = conn.execute(update(Job).where(
                    Job.id == self.ctx.job_id, Job.worker_id == self.ctx.worker_id,
                    Job.state == JobState.RUNNING).values(**values)).rowcount
        except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
            log.exception("heartbeat failed for job %s", self.ctx.job_id)
            return
        if rows == 0:
            log.warning("job %s was taken over; cancelling", self.ctx.job_id)
            self.ctx.cancel.set()
        elif self.on_beat is not None:
            self.on_beat()


class Worker:
    def __init__(self, app: Flask, *, lease_seconds: int = 60, poll_seconds: float = 1.0,
                 kinds: list[str] | None = None, periodic: bool = False):
        self.app = app
        self.periodic = periodic  # queue due periodic jobs (lms.jobs.schedule); `flask lms worker` does
        self.lease = lease_seconds
        self.poll = poll_seconds
        self.kinds = kinds
        self.id = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.stop = threading.Event()
        self.current: JobContext | None = None
        self.hostname, self.pid, self.started_at = socket.gethostname(), os.getpid(), utcnow()
        self.jobs_done = 0
        self._last_beat = float("-inf")
        self._last_prune = time.monotonic()
        self._last_schedule = time.monotonic() - SCHEDULE_SECONDS  # the first idle loop looks

    def install_signal_handlers(self) -> None:
        def on_signal(signum, _frame):
            log.info("signal %s: finishing up", signum)
            self.stop.set()
            if self.current is not None:
                self.current.shutting_down = True
                self.current.cancel.set()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self, *, drain: bool = False) -> int:
        """Work until stopped; with `drain`, stop as soon as no job is due. Returns jobs run."""
        done = 0
        # Python picks its temporary folder by writing and removing a probe file there, once: do it
        # now, so a worker killed in the middle of its first job leaves no stray probe behind.
        tempfile.gettempdir()
        self.beat(WorkerState.IDLE, force=True, prune=True)
        backoff = Backoff()
        try:
            while not self.stop.is_set():
                try:
                    if self.periodic and not drain:  # a drained run does only what is queued
                        self.schedule(busy=True)
                    job_id = self._claim()
                    if job_id is not None:
                        self.beat(WorkerState.BUSY, job_id, force=True)
                        if self.execute(job_id):
                            done += 1
                            self.jobs_done += 1
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    # A claimed job stays leased to us; when the lease runs out it is claimed again.
                    delay = backoff.failed()
                    log.warning("database unavailable (%s); trying again in %.1f s", _reason(exc), delay)
                    self.stop.wait(delay)
                    continue
                if backoff.succeeded():
                    log.info("database reachable again")
                if job_id is None:
                    if drain:
                        break
                    if self.periodic:
                        self.schedule(busy=False)
                    self.beat(WorkerState.IDLE)
                    self.stop.wait(self.poll)
                    continue
                self.beat(WorkerState.IDLE, force=True)
        finally:
            # Also after an exception, so a crashed loop does not linger as "idle" until it goes stale.
            self.beat(WorkerState.STOPPED, force=True)
        return done

    def beat(self, state: WorkerState, job_id: int | None = None, *, force: bool = False,
             prune: bool = False) -> None:
        """Refresh this worker's health row; idle loops write at most every BEAT_SECONDS."""
        now = time.monotonic()
        if not force and now - self._last_beat < BEAT_SECONDS:
            return
        self._last_beat = now
        if prune or now - self._last_prune > PRUNE_SECONDS:  # at start, then hourly: a long-lived worker sweeps too
            prune, self._last_prune = True, now
        try:
            with self.app.app_context():
                health.beat(self.id, hostname=self.hostname, pid=self.pid, started_at=self.started_at,
                            state=state, current_job_id=job_id, jobs_done=self.jobs_done, prune=prune)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._last_beat = float("-inf")  # a missed beat: write the next one as soon as we can
            log.debug("health beat skipped: database unavailable (%s)", _reason(exc))

    def _beat_busy(self) -> None:
        """Called from the job's heartbeat thread; the job id is read once, it may be cleared meanwhile."""
        ctx = self.current
        if ctx is not None:
            self.beat(WorkerState.STOPPING if self.stop.is_set() else WorkerState.BUSY, ctx.job_id, force=True)

    def schedule(self, *, busy: bool) -> None:
        """Queue the periodic jobs that are due: when idle at most once a minute; a worker kept busy by a
        queue that never empties still does every ten minutes."""
        now = time.monotonic()
        if now - self._last_schedule < SCHEDULE_SECONDS * (10 if busy else 1):
            return
        self._last_schedule = now
        with self.app.app_context():
            from lms.jobs import schedule

            schedule.enqueue_due(self.kinds)
            db.session.commit()

    def _claim(self) -> int | None:
        with self.app.app_context():
            queue.bury_exhausted()
            job_id = queue.claim(self.id, self.lease, self.kinds)
            db.session.commit()
            return job_id

    def execute(self, job_id: int) -> bool:
        """Run one claimed job; False when it was handed back (the worker is stopping) or taken over,
        so it does not count among the jobs this worker did."""
        with self.app.app_context():
            job = db.session.get(Job, job_id)
            ctx = JobContext(job_id=job.id, attempt=job.attempts, payload=dict(job.payload),
                             worker_id=self.id, kind=job.kind)
            ctx.event("claim")
            fn = HANDLERS.get(job.kind)
            db.session.commit()
            if fn is None:
                queue.fail(job_id, self.id, f"No handler for job kind {job.kind!r}.", retry=False)
                db.session.commit()
                ctx.event("dead", error="no handler")
                return True
            self.current = ctx
            if self.stop.is_set():  # the signal came after the claim, before there was a handler to cancel
                self.current = None
                queue.release(job_id, self.id)
                db.session.commit()
                return False
            beat = Heartbeat(self.app, ctx, self.lease, on_beat=self._beat_busy)
            beat.start()
            ctx.started = time.monotonic()
            try:
                return self._run_handler(fn, ctx)
            finally:
                beat.stopped.set()
                beat.join()
                self.current = None
                db.session.remove()

    def _run_handler(self, fn, ctx: JobContext) -> bool:
        """True when the job reached an outcome (done, or failed), False when it was handed back."""
        try:
            fn(ctx)
        except Cancelled:
            db.session.rollback()
            if ctx.shutting_down:
                self._record(ctx, "hand-back", lambda: queue.release(ctx.job_id, self.id))
                ctx.event("hand-back")
            else:
                ctx.event("taken-over")
            return False
        except PermanentError as exc:
            db.session.rollback()
            self._failed(ctx, str(exc), retry=False)
        except Exception as exc:  # noqa: BLE001 - any other failure is retried with backoff
            log.exception("job %s failed", ctx.job_id)
            reset_session()
            self._failed(ctx, f"{type(exc).__name__}: {exc}", retry=True)
        else:
            self._record(ctx, "finish", lambda: queue.finish(ctx.job_id, self.id))
            ctx.event("finish")
        return True

    def _failed(self, ctx: JobContext, error: str, *, retry: bool) -> None:
        outcome = {}
        self._record(ctx, "failure", lambda: outcome.update(state=queue.fail(ctx.job_id, self.id, error, retry=retry)))
        ctx.event("retry" if outcome.get("state") == JobState.FAILED else "dead",
                  error=error.strip().splitlines()[0][:300] if error.strip() else None)

    def _record(self, ctx: JobContext, what: str, step: Callable[[], None]) -> None:
        """Write the job's outcome in a short transaction, waiting out a database outage."""
        def write() -> None:
            step()
            db.session.commit()
        retry_through_outage(write, what=f"recording job {ctx.job_id}'s {what}", stop=self.stop)

