"""Course content, enrollment and lesson progress. Services flush; the caller commits."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from lms.auth.models import Role, User
from lms.catalog import permissions
from lms.catalog.models import (Course, Enrollment, Lesson, LessonProgress, Module, Offering,
                                OfferingStaff, StaffRole)
from lms.db import utcnow
from lms.errors import Conflict, DomainError
from lms.extensions import db


def enroll(offering: Offering, student: User) -> Enrollment:
    """Raises DomainError for a non-student and Conflict for a duplicate enrollment."""
    if student.role != Role.STUDENT:
        raise DomainError(_("%(name)s is not a student.", name=student.name_latin))
    if db.session.scalar(select(Enrollment.id).where(Enrollment.offering_id == offering.id,
                                                     Enrollment.student_id == student.id)):
        raise Conflict(_("%(name)s is already enrolled.", name=student.name_latin))
    enrollment = Enrollment(offering_id=offering.id, student_id=student.id)
    db.session.add(enrollment)
    db.session.flush()
    permissions.forget_membership()
    return enrollment


def unenroll(enrollment: Enrollment) -> None:
    db.session.delete(enrollment)
    db.session.flush()
    permissions.forget_membership()


def add_staff(offering: Offering, user: User, role: StaffRole) -> OfferingStaff:
    if user.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise DomainError(_("Only instructors can teach or assist an offering."))
    if db.session.scalar(select(OfferingStaff.id).where(OfferingStaff.offering_id == offering.id,
                                                        OfferingStaff.user_id == user.id)):
        raise Conflict(_("%(name)s is already on this offering's staff.", name=user.name_latin))
    staff = OfferingStaff(offering_id=offering.id, user_id=user.id, role=role)
    db.session.add(staff)
    db.session.flush()
    permissions.forget_membership()
    return staff


def create_offering(course: Course, term_id: int) -> Offering:
    if db.session.scalar(select(Offering.id).where(Offering.course_id == course.id,
                                                   Offering.term_id == term_id)):
        raise Conflict(_("This course is already offered in that term."))
    offering = Offering(course_id=course.id, term_id=term_id)
    db.session.add(offering)
    db.session.flush()
    return offering


def record_lesson_opened(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """Idempotent: two tabs opening the same lesson at once leave one row."""
    return open_lesson(enrollment, lesson)[0]


def open_lesson(enrollment: Enrollment, lesson: Lesson) -> tuple[LessonProgress, bool]:
    """(the progress row, whether this call added it): a view commits only when there is
    something new, since a commit expires what the page is about to show."""
    progress = _progress(enrollment, lesson)
    if progress is not None:
        return progress, False
    try:
        with db.session.begin_nested():
            progress = LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson.id)
            db.session.add(progress)
    except IntegrityError:
        return _progress(enrollment, lesson), False
    return progress, True


def complete_lesson(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    progress = record_lesson_opened(enrollment, lesson)
    if progress.completed_at is None:
        progress.completed_at = utcnow()
    db.session.flush()
    return progress


def mark_completed(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """The student's own "Mark as completed", for lessons without a video. A video lesson completes
    only from verified watching (lms.video.watching), or the 90 % rule would mean nothing.
    Raises DomainError for a video lesson."""
    if lesson.video_id is not None:
        raise DomainError(_("This lesson completes when you have watched its video (at least %(share)d %% of it).",
                            share=90))
    return complete_lesson(enrollment, lesson)


# Read on every lesson and course page: built once (lms/db.py, prebuilt statements).
_ONE_PROGRESS = select(LessonProgress).where(LessonProgress.enrollment_id == bindparam("enrollment_id"),
                                             LessonProgress.lesson_id == bindparam("lesson_id"))
_ALL_PROGRESS = select(LessonProgress).where(LessonProgress.enrollment_id == bindparam("enrollment_id"))


def _progress(enrollment: Enrollment, lesson: Lesson) -> LessonProgress | None:
    return db.session.scalar(_ONE_PROGRESS, {"enrollment_id": enrollment.id, "lesson_id": lesson.id})


def progress_by_lesson(enrollment: Enrollment | None) -> dict[int, LessonProgress]:
    if enrollment is None:
        return {}
    rows = db.session.scalars(_ALL_PROGRESS, {"enrollment_id": enrollment.id})
    return {row.lesson_id: row for row in rows}


def create_course(*, code: str, title_en: str, title_ja: str | None, credits: Decimal, hours: int,
                  summary_en: str = "", summary_ja: str = "", created_by: User | None = None) -> Course:
    if db.session.scalar(select(Course.id).where(Course.code == code)):
        raise Conflict(_("A course with the code %(code)s already exists.", code=code))
    course = Course(code=code, title_en=title_en, title_ja=title_ja or None, credits=credits,
                    hours=hours, summary_en=summary_en, summary_ja=summary_ja,
                    created_by_id=created_by.id if created_by else None)
    db.session.add(course)
    db.session.flush()
    return course


def _unique_key(model, course_id: int, title: str) -> str:
    import re

    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or model.__tablename__[:-1]
    key, n = base, 2
    while db.session.scalar(select(model.id).where(model.course_id == course_id, model.key == key)):
        key, n = f"{base}-{n}", n + 1
    return key


def add_module(course: Course, title_en: str, title_ja: str | None) -> Module:
    position = len(course.modules)
    module = Module(course_id=course.id, key=_unique_key(Module, course.id, title_en),
                    title_en=title_en, title_ja=title_ja or None, position=position)
    db.session.add(module)
    db.session.flush()
    return module


def add_lesson(module: Module, *, title_en: str, title_ja: str | None, body_md: str,
               minutes: int, published: bool) -> Lesson:
    lesson = Lesson(course_id=module.course_id, module_id=module.id,
                    key=_unique_key(Lesson, module.course_id, title_en), title_en=title_en,
                    title_ja=title_ja or None, body_md=body_md, minutes=minutes,
                    position=len(module.lessons), published=published)
    db.session.add(lesson)
    db.session.flush()
    return lesson
