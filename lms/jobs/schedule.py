"""Jobs that run every so often (the hourly deadline check, the daily digest), queued by the workers.

Each idle worker looks at most once a minute; a periodic kind is queued when no job of it is waiting
or running and none was queued within its period. Two workers looking at once may both queue one:
the periodic jobs are idempotent, so the second finds nothing left to do.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, or_, select

from lms.db import utcnow
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState

PERIODIC: dict[str, int] = {}  # job kind -> seconds between runs


def periodic(kind: str, every_seconds: int) -> None:
    PERIODIC[kind] = every_seconds


def enqueue_due(kinds: list[str] | None = None) -> list[int]:
    """Queue each periodic job that is due; returns the new jobs' ids. The caller commits."""
    now, added = utcnow(), []
    for kind, every in PERIODIC.items():
        if kinds and kind not in kinds:
            continue
        active = Job.state.in_([JobState.QUEUED, JobState.RUNNING, JobState.FAILED])
        recent = Job.created_at > now - timedelta(seconds=every)
        if not db.session.scalar(select(exists().where(Job.kind == kind, or_(active, recent)))):
            added.append(queue.enqueue(kind, {}, max_attempts=3).id)
    return added
