"""Rows for health tests: worker heartbeats of any age, and jobs in any state."""
from __future__ import annotations

from datetime import timedelta

import pytest

from lms.db import utcnow
from lms.extensions import db
from lms.jobs.models import Job, JobState, WorkerHeartbeat, WorkerState


class OpsRows:
    def __init__(self):
        self.n = 0

    def worker(self, *, seconds_ago: float = 0, state: WorkerState = WorkerState.IDLE, job_id=None,
               hostname: str = "worker-a", jobs_done: int = 0) -> WorkerHeartbeat:
        self.n += 1
        seen = utcnow() - timedelta(seconds=seconds_ago)
        row = WorkerHeartbeat(worker_id=f"{hostname}:{1000 + self.n}:abc{self.n:03d}", hostname=hostname,
                              pid=1000 + self.n, started_at=seen - timedelta(minutes=5), last_seen_at=seen,
                              state=state, current_job_id=job_id, jobs_done=jobs_done)
        db.session.add(row)
        db.session.commit()
        return row

    def job(self, kind: str = "video.transcode", state: JobState = JobState.QUEUED, *, error: str | None = None,
            payload: dict | None = None, attempts: int = 0) -> Job:
        job = Job(kind=kind, payload=payload or {"video_id": 1}, state=state, attempts=attempts,
                  max_attempts=3, run_after=utcnow(), last_error=error)
        db.session.add(job)
        db.session.commit()
        return job


@pytest.fixture
def rows(app):
    return OpsRows()
