"""A job's output in a folder of its own per attempt: kept and committed only when published."""
from __future__ import annotations

from typing import Callable

from lms.extensions import db
from lms.jobs.worker import Cancelled
from lms.storage import get_storage


def publish_attempt(work: Callable[[], bool], *, prefix: str, parent: str) -> None:
    """Run `work` (which writes under `prefix` and flushes its publishing, returning False when
    another worker published first), then commit once and remove `parent`'s older attempts. On any
    failure the transaction is rolled back and this attempt's folder removed before re-raising."""
    storage = get_storage()
    try:
        published = work()
    except InterruptedError:  # ffmpeg stopped because the job was cancelled
        storage.delete_prefix(prefix)
        raise Cancelled() from None
    except BaseException:
        db.session.rollback()
        storage.delete_prefix(prefix)
        raise
    if not published:
        db.session.rollback()
        storage.delete_prefix(prefix)
        raise Cancelled()
    db.session.commit()
    storage.delete_siblings(parent, keep=prefix)  # earlier attempts that died half-way
