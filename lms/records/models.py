"""The academic record: versioned schemes, final results, amendments and recognised credits."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Enum, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TimestampMixin, UTCDateTime, utcnow
from lms.extensions import db


class JapaneseGradeScheme(db.Model):
    """One version of a partner university's letter bands and GPA points. Never edited: a change
    is a new version, and results keep the version they were derived with."""

    __tablename__ = "japanese_grade_schemes"
    __table_args__ = (UniqueConstraint("partner_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_universities.id"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    bands: Mapped[list] = mapped_column(JSON)  # [["90", "S"], ["80", "A"], ...] highest first
    points: Mapped[dict] = mapped_column(JSON)  # {"S": "4", ...}
    passing: Mapped[list] = mapped_column(JSON)  # letters that earn credit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CreditRule(db.Model):
    """One version of a program's Japanese → Uzbek credit conversion, with where it comes from."""

    __tablename__ = "credit_rules"
    __table_args__ = (UniqueConstraint("program_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    factor: Mapped[Decimal] = mapped_column(Numeric(10, 6))
    step: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.5"))
    mode: Mapped[str] = mapped_column(String(10), default="half_up")
    source: Mapped[str] = mapped_column(Text, default="")
    # Recognised credits (認定) toward the Uzbek degree: converted with this factor; None: not counted.
    recognised_factor: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ResultState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"  # by the instructor, from the gradebook
    FINALIZED = "finalized"  # by a registrar; a database trigger refuses any later change


class FinalResult(TimestampMixin, db.Model):
    __tablename__ = "final_results"
    __table_args__ = (UniqueConstraint("student_id", "offering_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"))
    raw_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    state: Mapped[ResultState] = mapped_column(
        Enum(ResultState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=ResultState.IN_PROGRESS)
    source: Mapped[str] = mapped_column(String(20), default="gradebook")  # gradebook | partner_import
    ja_scheme_id: Mapped[int | None] = mapped_column(ForeignKey("japanese_grade_schemes.id"))
    credit_rule_id: Mapped[int | None] = mapped_column(ForeignKey("credit_rules.id"))
    uz_scale_version: Mapped[int] = mapped_column(default=1)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Everything the figures come from, copied at finalization (lms/records/snapshot.py): later edits
    # to the course, term, scheme or rule never reach a finalized result.
    frozen: Mapped[dict | None] = mapped_column(JSON)

    offering: Mapped["Offering"] = relationship()  # noqa: F821
    student: Mapped["User"] = relationship(foreign_keys=[student_id])  # noqa: F821
    ja_scheme: Mapped[JapaneseGradeScheme | None] = relationship()
    credit_rule: Mapped[CreditRule | None] = relationship()
    amendments: Mapped[list[ResultAmendment]] = relationship(back_populates="result", order_by="ResultAmendment.at")


class ResultAmendment(db.Model):
    """A registrar's correction of a finalized result; the original row stays as it was."""

    __tablename__ = "result_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("final_results.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    old_raw_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    new_raw_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    result: Mapped[FinalResult] = relationship(back_populates="amendments")


class RecognisedCredit(db.Model):
    """認定: credits from elsewhere that count toward the Japanese degree, never toward the GPA."""

    __tablename__ = "recognised_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    institution: Mapped[str] = mapped_column(String(200))
    ja_credits: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    # The Uzbek credits these count for, by the program's credit rule in force on approval.
    uz_credits: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(0))
    credit_rule_id: Mapped[int | None] = mapped_column(ForeignKey("credit_rules.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    credit_rule: Mapped[CreditRule | None] = relationship()
