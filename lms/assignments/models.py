"""Assignments, deadlines and extensions, and what students hand in."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TimestampMixin, UTCDateTime, utcnow
from lms.extensions import db


def _enum(cls):
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class SubmissionKind(enum.StrEnum):
    TEXT = "text"
    FILES = "files"
    LINK = "link"
    VIDEO = "video"
    GAME = "game"  # a WebGL/HTML5 build as a zip with an index.html


class PenaltyUnit(enum.StrEnum):
    DAY = "day"
    HOUR = "hour"


class GradeCategory(db.Model):
    """A weighted part of the course score (e.g. Projects 60 %, Exercises 40 %)."""

    __tablename__ = "grade_categories"
    __table_args__ = (UniqueConstraint("offering_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent of the course score
    position: Mapped[int] = mapped_column(default=0)


class Assignment(TimestampMixin, db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("grade_categories.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    instructions_md: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(100))
    kinds: Mapped[list] = mapped_column(JSON, default=list)  # SubmissionKind values accepted
    allowed_extensions: Mapped[list] = mapped_column(JSON, default=list)  # for files, e.g. ["png", "psd"]
    max_file_bytes: Mapped[int] = mapped_column(BigInteger, default=100 * 1024 * 1024)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # nothing accepted after it
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    grace_minutes: Mapped[int] = mapped_column(default=0)
    penalty_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))  # per unit late
    penalty_unit: Mapped[PenaltyUnit] = mapped_column(_enum(PenaltyUnit), default=PenaltyUnit.DAY)
    max_penalty_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(100))
    floor_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))  # score never below
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # grades visible to students
    # The instructor lets students quote their feedback on this assignment in public portfolios.
    portfolio_feedback: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    offering: Mapped["Offering"] = relationship()  # noqa: F821
    category: Mapped[GradeCategory | None] = relationship()
    rubric: Mapped["Rubric | None"] = relationship()  # noqa: F821


class Extension(db.Model):
    """A new due date (and cut-off) for one student, with the reason."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Submission(db.Model):
    """One attempt. Every version is kept; the penalty applied is stored, never recomputed."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "student_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attempt: Mapped[int]
    kind: Mapped[SubmissionKind] = mapped_column(_enum(SubmissionKind))
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the due date that applied (extensions)
    late_seconds: Mapped[int] = mapped_column(default=0)
    penalty_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    # One per form shown: a double click or a retried request finds the first submission.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)

    assignment: Mapped[Assignment] = relationship()
    student: Mapped["User"] = relationship()  # noqa: F821
    files: Mapped[list[SubmissionFile]] = relationship(back_populates="submission", order_by="SubmissionFile.id",
                                                       cascade="all, delete-orphan")
    build: Mapped[GameBuild | None] = relationship(back_populates="submission", uselist=False)


class SubmissionFile(db.Model):
    __tablename__ = "submission_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))  # for display and download names only
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))

    submission: Mapped[Submission] = relationship(back_populates="files")


class BuildState(enum.StrEnum):
    CHECKING = "checking"
    READY = "ready"
    REJECTED = "rejected"


class GameBuild(TimestampMixin, db.Model):
    """A playable build: the zip is inspected and extracted by a job, then served from the sandbox."""

    __tablename__ = "game_builds"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), unique=True)
    archive_key: Mapped[str] = mapped_column(String(300))
    state: Mapped[BuildState] = mapped_column(_enum(BuildState), default=BuildState.CHECKING)
    error: Mapped[str | None] = mapped_column(Text)
    prefix: Mapped[str | None] = mapped_column(String(300))  # extracted files live under it
    entry: Mapped[str | None] = mapped_column(String(500))  # path of index.html inside
    file_count: Mapped[int] = mapped_column(default=0)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))

    submission: Mapped[Submission] = relationship(back_populates="build")


class CalendarFeed(db.Model):
    """A student's private iCal URL: the token is the only credential, so it can be replaced."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
