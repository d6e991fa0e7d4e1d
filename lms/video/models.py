"""Lesson videos, their captions, and each student's watching of them."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TimestampMixin, UTCDateTime, utcnow
from lms.extensions import db


class VideoState(enum.StrEnum):
    PROCESSING = "processing"  # uploaded; a transcode job is queued or running
    READY = "ready"
    FAILED = "failed"  # the reason is in `error`


class Video(TimestampMixin, db.Model):
    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A lesson's video, or (lesson_id None) a student's video submission.
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    original_key: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(255))  # shown to staff only, never a path
    original_size: Mapped[int] = mapped_column(BigInteger)
    original_sha256: Mapped[str | None] = mapped_column(String(64))  # None until the worker has read a direct upload
    state: Mapped[VideoState] = mapped_column(
        Enum(VideoState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=VideoState.PROCESSING)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    duration: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    renditions: Mapped[list] = mapped_column(JSON, default=list)
    published_prefix: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lesson: Mapped["Lesson | None"] = relationship(foreign_keys=[lesson_id])  # noqa: F821
    job: Mapped["Job | None"] = relationship()  # noqa: F821
    captions: Mapped[list[Caption]] = relationship(back_populates="video", order_by="Caption.language",
                                                   cascade="all, delete-orphan")


class Caption(TimestampMixin, db.Model):
    __tablename__ = "captions"
    __table_args__ = (UniqueConstraint("video_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    storage_key: Mapped[str] = mapped_column(String(300))
    cue_count: Mapped[int] = mapped_column(default=0)

    video: Mapped[Video] = relationship(back_populates="captions")


class WatchProgress(db.Model):
    """Where a student is in a video and which seconds they have actually watched."""

    __tablename__ = "watch_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "video_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    position: Mapped[float] = mapped_column(default=0.0)
    intervals: Mapped[list] = mapped_column(JSON, default=list)  # merged [[start, end], ...]
    watched_seconds: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
