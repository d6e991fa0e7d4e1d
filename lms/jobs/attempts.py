"""A job's output in a folder of its own per attempt: kept and committed only when published.

No transaction stays open while the slow part runs: the job's reads end before `work` starts
(so a database restart during a transcode costs nothing), and publishing is a short transaction of
its own that waits out an outage instead of throwing the finished work away.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from lms.extensions import db
from lms.jobs.outage import retry_through_outage
from lms.jobs.worker import Cancelled, JobContext
from lms.storage import get_storage

T = TypeVar("T")


def publish_attempt(ctx: JobContext, work: Callable[[], T], publish: Callable[[T], bool], *,
                    prefix: str, parent: str) -> None:
    """Run `work` (slow; writes under `prefix`; must not use the database), then `publish` its result
    in a fresh transaction (False when another worker published first) and commit, retrying through
    an outage; then remove `parent`'s older attempts. On any failure the transaction is rolled back
    and this attempt's folder removed before re-raising."""
    storage = get_storage()
    db.session.rollback()  # the job's reads end here; ORM objects read before are expired
    try:
        outcome = work()
    except InterruptedError:  # ffmpeg stopped because the job was cancelled
        storage.delete_prefix(prefix)
        raise Cancelled() from None
    except BaseException:
        db.session.rollback()
        storage.delete_prefix(prefix)
        raise

    def publish_and_commit() -> bool:
        if not publish(outcome):
            db.session.rollback()
            return False
        db.session.commit()
        return True

    try:
        published = retry_through_outage(publish_and_commit, what=f"publishing job {ctx.job_id}", stop=ctx.cancel)
    except BaseException:
        db.session.rollback()
        storage.delete_prefix(prefix)
        raise
    if not published:
        storage.delete_prefix(prefix)
        raise Cancelled()
    storage.delete_siblings(parent, keep=prefix)  # earlier attempts that died half-way
