"""A large file on its way from the browser to storage, in parts, before a form claims it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import TimestampMixin, UTCDateTime
from lms.extensions import db


class UploadState(enum.StrEnum):
    OPEN = "open"  # parts are arriving
    COMPLETE = "complete"  # joined and checked; waiting for its form
    CLAIMED = "claimed"  # a video or a build now owns the object
    ABORTED = "aborted"  # given up, refused, or expired; the object is gone


class Upload(TimestampMixin, db.Model):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the browser holds: unguessable, so one user's upload cannot be named by another.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))  # lesson_video | game_build
    target_id: Mapped[int]  # the lesson or the assignment it is for
    key: Mapped[str] = mapped_column(String(300))
    storage_upload_id: Mapped[str] = mapped_column(String(1024))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)  # declared when started; checked on completion
    part_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))  # when the backend could compute it on joining
    state: Mapped[UploadState] = mapped_column(
        Enum(UploadState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=UploadState.OPEN)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(500))

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))
