"""Videos: attach an upload, derive what to show, retry, publish atomically, record watching.

Services flush; views and job steps commit.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.catalog.models import Enrollment, Lesson, LessonProgress
from lms.catalog.services import complete_lesson
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.filenames import display_name
from lms.jobs import queue
from lms.jobs.models import Job, JobState
from lms.messages import Message, shown
from lms.storage import get_storage
from lms.video import failures, watching
from lms.video.models import Caption, Video, VideoState, WatchProgress

TRANSCODE = "transcode"


def attach_upload(lesson: Lesson | None, uploader_id: int, stream: BinaryIO, filename: str,
                  max_bytes: int) -> Video:
    """Store the upload under a generated key, then add the Video and its job in one transaction.
    `lesson` is None for a student's video submission.

    Raises storage.TooLarge or DomainError for an empty file (nothing is kept). The caller commits, and deletes
    `video.original_key` from storage if the commit fails.
    """
    key = f"videos/originals/{uuid.uuid4().hex}"
    storage = get_storage()
    size, sha256 = storage.put_stream(key, stream, max_bytes=max_bytes)
    if size == 0:
        storage.delete(key)
        raise DomainError(_("The file is empty. Choose the video file again."))
    return attach_stored(lesson, uploader_id, key, filename, size, sha256)


def attach_stored(lesson: Lesson | None, uploader_id: int, key: str, filename: str, size: int,
                  sha256: str | None) -> Video:
    """A video already in storage (streamed just now, or sent in parts from the browser); its
    SHA-256 may come later, from the worker that reads it anyway."""
    video = Video(lesson_id=lesson.id if lesson else None, uploaded_by_id=uploader_id, original_key=key,
                  original_name=display_name(filename, "video"), original_size=size, original_sha256=sha256,
                  state=VideoState.PROCESSING)
    db.session.add(video)
    db.session.flush()
    video.job_id = queue.enqueue(TRANSCODE, {"video_id": video.id}, max_attempts=3).id
    db.session.flush()
    return video


@dataclass
class VideoStatus:
    state: str  # queued | transcoding | retrying | ready | failed
    progress: float
    eta_seconds: int | None
    error: str | None

    def as_dict(self) -> dict:
        return {"state": self.state, "percent": round(self.progress * 100), "eta_seconds": self.eta_seconds,
                "error": self.error}


def status(video: Video) -> VideoStatus:
    """What the instructor sees: derived from the video and its job, the one source of truth."""
    if video.state == VideoState.READY:
        return VideoStatus("ready", 1.0, 0, None)
    job = video.job
    if video.state == VideoState.FAILED or (job is not None and job.state == JobState.DEAD):
        return VideoStatus("failed", 0.0, None, shown(video.error) or failures.for_uploader(job, final=True))
    if job is None or job.state == JobState.QUEUED:
        return VideoStatus("queued", 0.0, None, None)
    if job.state == JobState.FAILED:
        return VideoStatus("retrying", job.progress, None, failures.for_uploader(job, final=False))
    return VideoStatus("transcoding", job.progress, job.eta_seconds, None)


def retry(video: Video) -> None:
    """Another go for a failed video, with a fresh set of attempts."""
    video.state, video.error = VideoState.PROCESSING, None
    job = video.job
    if job is None or job.state == JobState.DONE:
        video.job_id = queue.enqueue(TRANSCODE, {"video_id": video.id}, max_attempts=3).id
    else:
        queue.retry_now(job)
    db.session.flush()


def publish(video: Video, *, job_id: int, worker_id: str, prefix: str, duration: float,
            width: int | None, height: int | None, renditions: list[str]) -> bool:
    """Point the video and its lesson at `prefix`, in the caller's transaction.

    Only while this worker still holds the job: a worker whose lease was taken over publishes
    nothing, so each video publishes exactly once. Returns False in that case.
    """
    still_mine = db.session.execute(
        update(Job).where(Job.id == job_id, Job.worker_id == worker_id, Job.state == JobState.RUNNING)
        .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not still_mine:
        return False
    video.published_prefix, video.published_at = prefix, utcnow()
    video.state, video.error = VideoState.READY, None
    video.duration, video.width, video.height, video.renditions = duration, width, height, renditions
    if video.lesson is not None:
        video.lesson.video_id = video.id
        from lms.notifications.jobs import record

        record("video_ready", video_id=video.id)  # in the publishing commit: told exactly when it is true
    db.session.flush()
    return True


def reject(video: Video, reason: Message) -> None:
    """The file cannot be used: `reason` is shown to the uploader in their language."""
    video.state, video.error = VideoState.FAILED, reason.stored()
    db.session.flush()


def progress_of(enrollment: Enrollment, video: Video) -> WatchProgress | None:
    return db.session.scalar(select(WatchProgress).where(
        WatchProgress.enrollment_id == enrollment.id, WatchProgress.video_id == video.id))


def record_watching(enrollment: Enrollment, video: Video, position, intervals) -> WatchProgress:
    """Save the resume position and merge watched intervals; completes the lesson at 90 %.

    New unique seconds per report are capped by the wall-clock time since the previous report
    (at 2x speed), so a script cannot claim a whole lecture at once.
    """
    duration = video.duration or 0.0
    row = progress_of(enrollment, video)
    now = utcnow()
    if row is None:
        row = WatchProgress(enrollment_id=enrollment.id, video_id=video.id, intervals=[],
                            watched_seconds=0.0, updated_at=now - timedelta(seconds=15))
        db.session.add(row)
    try:
        row.position = max(0.0, min(duration, float(position)))
    except (TypeError, ValueError):
        pass
    merged = watching.merge(row.intervals + watching.clean_intervals(intervals, duration))
    allowed = (now - row.updated_at).total_seconds() * 2 + 5
    gained = watching.total(merged) - row.watched_seconds
    if gained <= allowed:
        row.intervals, row.watched_seconds = merged, watching.total(merged)
    row.updated_at = now
    db.session.flush()
    if watching.is_complete(row.watched_seconds, duration):
        complete_lesson(enrollment, video.lesson)
    return row


def lesson_video(lesson: Lesson) -> Video | None:
    return db.session.get(Video, lesson.video_id) if lesson.video_id else None


def max_upload_bytes() -> int:
    return int(current_app.config["VIDEO_MAX_BYTES"])


def completed(progress: LessonProgress | None) -> bool:
    return progress is not None and progress.completed_at is not None


def lesson_progress(enrollment: Enrollment, lesson: Lesson) -> LessonProgress | None:
    return db.session.scalar(select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id))


def videos_of_lesson(lesson: Lesson) -> list[Video]:
    return list(db.session.scalars(select(Video).where(Video.lesson_id == lesson.id).order_by(Video.id.desc())))


def set_captions(video: Video, language: str, text: str, cues: int) -> str | None:
    """Store WebVTT for one language; returns the replaced file's key, to delete after the commit."""
    storage = get_storage()
    key = f"videos/{video.id}/captions/{language}-{uuid.uuid4().hex[:8]}.vtt"
    storage.put_bytes(key, text.encode("utf-8"))
    caption = db.session.scalar(select(Caption).where(Caption.video_id == video.id, Caption.language == language))
    old_key = None
    if caption is None:
        caption = Caption(video_id=video.id, language=language, storage_key=key, cue_count=cues)
        db.session.add(caption)
    else:
        old_key, caption.storage_key, caption.cue_count = caption.storage_key, key, cues
    db.session.flush()
    return old_key


def remove_captions(caption: Caption) -> str:
    """Returns the file's key, to delete after the commit."""
    db.session.delete(caption)
    db.session.flush()
    return caption.storage_key
