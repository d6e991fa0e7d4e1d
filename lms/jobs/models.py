"""The durable job queue's table, and each worker's heartbeat row. Jobs carry ids, never ORM objects."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import TimestampMixin, UTCDateTime, utcnow
from lms.extensions import db


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # will retry after run_after
    DEAD = "dead"  # gave up; last_error says why


class Job(TimestampMixin, db.Model):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(
        Enum(JobState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    worker_id: Mapped[str | None] = mapped_column(String(120))
    progress: Mapped[float] = mapped_column(default=0.0)  # 0..1
    eta_seconds: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING, JobState.FAILED)


class WorkerState(enum.StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    STOPPING = "stopping"  # SIGTERM received; handing its job back
    STOPPED = "stopped"  # clean exit
    DEAD = "dead"  # not seen for longer than the stale limit (killed, machine lost): marked by a live worker's sweep


class WorkerHeartbeat(db.Model):
    """One row per worker process, upserted by its loop, so health checks see who is alive.

    current_job_id has no foreign key on purpose: this row is written on every idle loop, and a
    key would make each write lock the job row another worker may be claiming.
    """

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)  # Worker.id
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    current_job_id: Mapped[int | None]
    jobs_done: Mapped[int] = mapped_column(default=0)
    state: Mapped[WorkerState] = mapped_column(
        Enum(WorkerState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=WorkerState.IDLE)
