"""Academic structure and course content: partners, programs, terms, courses, offerings, lessons."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Enum, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TimestampMixin, UTCDateTime, utcnow
from lms.extensions import db


class Bilingual:
    """Titles carried in English and Japanese; `title_for(locale)` picks the one that fits."""

    title_en: Mapped[str]
    title_ja: Mapped[str | None]

    def title_for(self, locale: str | None) -> str:
        if locale == "ja" and self.title_ja:
            return self.title_ja
        return self.title_en


class PartnerUniversity(TimestampMixin, db.Model):
    __tablename__ = "partner_universities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str | None] = mapped_column(String(200))


class Program(TimestampMixin, db.Model):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str | None] = mapped_column(String(200))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_universities.id"))
    ja_credits_required: Mapped[int] = mapped_column(default=124)
    uz_credits_required: Mapped[int] = mapped_column(default=240)

    partner: Mapped[PartnerUniversity | None] = relationship()


class Term(TimestampMixin, db.Model):
    __tablename__ = "terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # Set by a registrar where the teaching days do not decide it (lms/records/terms.py); else None.
    ja_year: Mapped[int | None]
    ja_semester: Mapped[str | None] = mapped_column(String(4))


class Course(Bilingual, TimestampMixin, db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)  # set for courses as files
    title_en: Mapped[str] = mapped_column(String(200))
    title_ja: Mapped[str | None] = mapped_column(String(200))
    summary_en: Mapped[str] = mapped_column(Text, default="")
    summary_ja: Mapped[str] = mapped_column(Text, default="")
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_universities.id"))
    credits: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    hours: Mapped[int]
    # Skills the course teaches (course.yaml `skills`): the alignments of its Open Badges credential.
    skills: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    partner: Mapped[PartnerUniversity | None] = relationship()
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )
    offerings: Mapped[list[Offering]] = relationship(back_populates="course")

    @property
    def from_files(self) -> bool:
        return self.slug is not None


class Module(Bilingual, db.Model):
    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    title_en: Mapped[str] = mapped_column(String(200))
    title_ja: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position"
    )


class Lesson(Bilingual, TimestampMixin, db.Model):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    key: Mapped[str] = mapped_column(String(80))
    title_en: Mapped[str] = mapped_column(String(200))
    title_ja: Mapped[str | None] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    # Lessons dropped from a course's files are hidden, not deleted: students' progress stays.
    published: Mapped[bool] = mapped_column(default=True)
    # The video students watch; switched only when a new upload has finished transcoding.
    video_id: Mapped[int | None] = mapped_column(
        ForeignKey("videos.id", use_alter=True, ondelete="SET NULL"))

    module: Mapped[Module] = relationship(back_populates="lessons")
    course: Mapped[Course] = relationship()


class StaffRole(enum.StrEnum):
    INSTRUCTOR = "instructor"
    ASSISTANT = "assistant"


class Offering(TimestampMixin, db.Model):
    __tablename__ = "offerings"
    __table_args__ = (UniqueConstraint("course_id", "term_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))

    course: Mapped[Course] = relationship(back_populates="offerings")
    term: Mapped[Term] = relationship()
    staff: Mapped[list[OfferingStaff]] = relationship(
        back_populates="offering", cascade="all, delete-orphan"
    )


class OfferingStaff(db.Model):
    __tablename__ = "offering_staff"
    __table_args__ = (UniqueConstraint("offering_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[StaffRole] = mapped_column(
        Enum(StaffRole, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )

    offering: Mapped[Offering] = relationship(back_populates="staff")
    user: Mapped["User"] = relationship()  # noqa: F821


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("offering_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    offering: Mapped[Offering] = relationship()
    student: Mapped["User"] = relationship()  # noqa: F821


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
