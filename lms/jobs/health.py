"""Who is working: worker heartbeat rows, and the queue's figures for health checks and the admin page.

Heartbeats are written on a connection of their own (like the job lease heartbeat), so a beat never
commits or rolls back the worker's session, and a failed beat is only logged: health reporting must
never stop a worker from working.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select, update

from lms.db import utcnow
from lms.extensions import db
from lms.jobs.models import Job, JobState, WorkerHeartbeat, WorkerState

log = logging.getLogger(__name__)
FORGET_AFTER = timedelta(days=7)  # rows of workers gone this long are deleted by the sweep
ACTIVE = (JobState.QUEUED, JobState.RUNNING, JobState.FAILED, JobState.DEAD)  # DONE is history, not depth


def stale_after(seconds: float | None = None) -> timedelta:
    """How old a heartbeat may be before its worker counts as gone.

    A busy worker is seen through its job's lease heartbeat, every lease/4 seconds, so the default
    (the lease, at least 30 s) leaves room for a few missed beats.
    """
    config = current_app.config
    seconds = seconds or config.get("WORKER_STALE_SECONDS") or max(30, int(config["WORKER_LEASE_SECONDS"]))
    return timedelta(seconds=float(seconds))


def _upsert(values: dict):
    table = WorkerHeartbeat.__table__
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values)
    changing = {k: statement.excluded[k] for k in values if k not in ("worker_id", "started_at")}
    return statement.on_conflict_do_update(index_elements=[table.c.worker_id], set_=changing)


def beat(worker_id: str, *, hostname: str, pid: int, started_at: datetime, state: WorkerState,
         current_job_id: int | None, jobs_done: int, prune: bool = False) -> bool:
    """Insert or refresh this worker's row in its own transaction; False if the database refused."""
    values = {"worker_id": worker_id, "hostname": hostname[:255], "pid": pid, "started_at": started_at,
              "last_seen_at": utcnow(), "current_job_id": current_job_id, "jobs_done": jobs_done,
              "state": state}
    try:
        with db.engine.begin() as conn:
            conn.execute(_upsert(values))
            if prune:
                sweep(conn, values["last_seen_at"])
    except Exception:  # noqa: BLE001 - the next beat retries; jobs matter more than reporting
        log.exception("worker heartbeat failed for %s", worker_id)
        return False
    return True


def sweep(conn, now: datetime) -> None:
    """Rows of workers not seen for longer than the stale limit, and not stopped cleanly, are marked
    dead (their job is no longer theirs: its lease runs out and another worker takes it over); rows
    gone for FORGET_AFTER are deleted. A worker marked dead by mistake (cut off from the database
    for a while) sets its real state again with its next beat."""
    conn.execute(update(WorkerHeartbeat).where(
        WorkerHeartbeat.last_seen_at < now - stale_after(),
        WorkerHeartbeat.state.not_in([WorkerState.STOPPED, WorkerState.DEAD]))
        .values(state=WorkerState.DEAD, current_job_id=None))
    conn.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < now - FORGET_AFTER))


@dataclass
class WorkerView:
    worker_id: str
    hostname: str
    pid: int
    state: str
    started_at: datetime
    last_seen_at: datetime
    age_seconds: float
    stale: bool
    current_job_id: int | None
    current_job_kind: str | None
    jobs_done: int

    @property
    def alive(self) -> bool:
        return not self.stale and self.state not in (WorkerState.STOPPED, WorkerState.DEAD)

    def public(self) -> dict:
        """What the unauthenticated JSON shows: no job payloads, no errors."""
        return {"worker_id": self.worker_id, "hostname": self.hostname, "pid": self.pid,
                "state": self.state, "last_seen_seconds_ago": round(self.age_seconds, 1),
                "stale": self.stale, "current_job_id": self.current_job_id,
                "current_job_kind": self.current_job_kind, "jobs_done": self.jobs_done}


def workers(*, include_stopped: bool = True, stale_seconds: float | None = None) -> list[WorkerView]:
    """Every known worker, newest heartbeat first, with its current job's kind: one query."""
    now, limit = utcnow(), stale_after(stale_seconds)
    query = (select(WorkerHeartbeat, Job.kind).outerjoin(Job, Job.id == WorkerHeartbeat.current_job_id)
             .order_by(WorkerHeartbeat.last_seen_at.desc(), WorkerHeartbeat.worker_id))
    if not include_stopped:
        query = query.where(WorkerHeartbeat.state != WorkerState.STOPPED)
    views = []
    for row, kind in db.session.execute(query):
        age = (now - row.last_seen_at).total_seconds()
        stopped = row.state in (WorkerState.STOPPED, WorkerState.DEAD)
        views.append(WorkerView(
            worker_id=row.worker_id, hostname=row.hostname, pid=row.pid, state=str(row.state),
            started_at=row.started_at, last_seen_at=row.last_seen_at, age_seconds=max(0.0, age),
            stale=not stopped and age > limit.total_seconds(),
            current_job_id=None if stopped else row.current_job_id,
            current_job_kind=None if stopped else kind, jobs_done=row.jobs_done))
    return views


def queue_depth() -> dict[str, dict[str, int]]:
    """{kind: {state: count}} for jobs not done, in one grouped query."""
    rows = db.session.execute(select(Job.kind, Job.state, func.count()).where(Job.state.in_(ACTIVE))
                              .group_by(Job.kind, Job.state).order_by(Job.kind))
    depth: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        depth.setdefault(kind, {s.value: 0 for s in ACTIVE})[str(state)] = count
    return depth


def totals(depth: dict[str, dict[str, int]]) -> dict[str, int]:
    return {state.value: sum(by_state[state.value] for by_state in depth.values()) for state in ACTIVE}


def recent_failures(limit: int = 20) -> list[Job]:
    """The latest failed (retrying) and dead jobs, for people to read their errors."""
    return list(db.session.scalars(select(Job).where(Job.state.in_([JobState.FAILED, JobState.DEAD]))
                                   .order_by(Job.updated_at.desc(), Job.id.desc()).limit(limit)))


def database_ok() -> bool:
    """SELECT 1 on a connection of its own; any failure means this process cannot serve pages."""
    from sqlalchemy import text

    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - the reason goes to the log, never to the response
        log.exception("health check: database unreachable")
        return False
    return True


def low_disks() -> list[str]:
    """Folders this process writes to (media on disk, the temporary folder where uploads spool and
    transcodes run) with less than LMS_DISK_MIN_FREE_MB free."""
    import shutil
    import tempfile

    folders = [tempfile.gettempdir()]
    if current_app.config["STORAGE"] == "local":
        folders.insert(0, current_app.config["MEDIA_ROOT"])
    minimum = int(current_app.config["DISK_MIN_FREE_MB"]) * 1024 * 1024
    low = []
    for folder in folders:
        existing = Path(folder).resolve()
        while not existing.exists() and existing != existing.parent:  # media/ before the first upload
            existing = existing.parent
        try:
            if shutil.disk_usage(existing).free < minimum:
                low.append(folder)
        except OSError:
            low.append(folder)
    if low:
        log.warning("health check: under %d MB free in %s", minimum // 2**20, ", ".join(low))
    return low


def storage_ok() -> bool:
    """A cheap read (one LIST request on S3): proves the backend answers, the credentials work and
    the bucket exists. Not a HEAD: S3 answers a HEAD with a bare 404 for a missing key and for a
    missing bucket alike, so a mistyped LMS_S3_BUCKET would look healthy."""
    from lms.storage import get_storage

    try:
        get_storage().list_prefixes("healthz-probe")
    except Exception:  # noqa: BLE001 - as above
        log.exception("health check: storage unreachable")
        return False
    return True
