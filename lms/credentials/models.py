"""Credentials JDU has signed: which student, which result, where its revocation bit sits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db

ACHIEVEMENT = "achievement"  # an Open Badges 3.0 AchievementCredential for one course result
CLR = "clr"  # a CLR 2.0 transcript
WORK = "work"  # an Open Badges 3.0 AchievementCredential for one graded submission shown in a portfolio


class IssuedCredential(db.Model):
    """One signed credential. The row keeps the signed document as it was handed out (the proof
    covers every byte, so it is never edited); revocation only sets the status-list bit."""

    __tablename__ = "issued_credentials"
    __table_args__ = (Index("ix_issued_credentials_kind_result_id", "kind", "result_id"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the credential's own "urn:uuid:…"
    kind: Mapped[str] = mapped_column(String(20))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("final_results.id"))
    status_index: Mapped[int] = mapped_column(unique=True)
    document: Mapped[dict | None] = mapped_column(JSON)  # Data Integrity: the signed JSON-LD
    token: Mapped[str | None] = mapped_column(Text)  # VC-JOSE: the compact JWS
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    student: Mapped["User"] = relationship(foreign_keys=[student_id])  # noqa: F821

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
