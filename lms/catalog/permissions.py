"""Who may see and change offerings, lessons and courses. Object checks and list filters together."""
from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import Select, and_, bindparam, exists, select

from lms.auth.models import Role, User
from lms.catalog.models import Course, Enrollment, Lesson, Offering, OfferingStaff, StaffRole
from lms.extensions import db


def _per_request(kind: str, user: User, offering: Offering, load):
    """A page asks "is this user enrolled / staff here?" several times (the permission check, the
    view, the player): within one request it is one query. Outside requests, always a fresh one."""
    if not has_request_context():
        return load()
    memo = g.setdefault("_offering_membership", {})
    key = (kind, user.id, offering.id)
    if key not in memo:
        memo[key] = load()
    return memo[key]


def forget_membership() -> None:
    """After enrolling or unenrolling someone in this request."""
    if has_request_context():
        g.pop("_offering_membership", None)


# Asked on nearly every page, and both together: one statement, built once (lms/db.py, prebuilt
# statements). The offering's row anchors the outer join, so "neither" is a row of two NULLs.
_MEMBERSHIP = (select(Enrollment, select(OfferingStaff.role).where(
    OfferingStaff.offering_id == Offering.id, OfferingStaff.user_id == bindparam("user_id")).scalar_subquery())
    .select_from(Offering)
    .outerjoin(Enrollment, and_(Enrollment.offering_id == Offering.id, Enrollment.student_id == bindparam("user_id")))
    .where(Offering.id == bindparam("offering_id")))


def _membership(user: User, offering: Offering) -> tuple[Enrollment | None, StaffRole | None]:
    def load():
        row = db.session.execute(_MEMBERSHIP, {"offering_id": offering.id, "user_id": user.id}).first()
        return (row[0], row[1]) if row is not None else (None, None)
    return _per_request("membership", user, offering, load)


def staff_role(user: User, offering: Offering) -> StaffRole | None:
    if not user.is_authenticated:
        return None
    role = _membership(user, offering)[1]
    return StaffRole(role) if role is not None else None


def enrollment_of(user: User, offering: Offering) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return _membership(user, offering)[0]


def oversees_all(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.REGISTRAR, Role.ADMIN)


def can_view_offering(user: User, offering: Offering) -> bool:
    return (oversees_all(user) or staff_role(user, offering) is not None
            or enrollment_of(user, offering) is not None)


def can_view_lesson(user: User, offering: Offering, lesson: Lesson) -> bool:
    """Students see published lessons of their offering; staff also preview hidden ones."""
    if lesson.course_id != offering.course_id or not can_view_offering(user, offering):
        return False
    return lesson.published or oversees_all(user) or staff_role(user, offering) is not None


def can_edit_course(user: User, course: Course) -> bool:
    """Admins, the course's creator, and instructors (not assistants) of any of its offerings."""
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.INSTRUCTOR:
        return False
    if course.created_by_id == user.id:
        return True
    return bool(db.session.scalar(select(exists().where(
        OfferingStaff.user_id == user.id, OfferingStaff.role == StaffRole.INSTRUCTOR,
        OfferingStaff.offering_id == Offering.id, Offering.course_id == course.id))))


def can_view_course_assets(user: User, course: Course) -> bool:
    if oversees_all(user) or can_edit_course(user, course):
        return True
    if not user.is_authenticated:
        return False
    staffed = exists().where(OfferingStaff.user_id == user.id, OfferingStaff.offering_id == Offering.id)
    enrolled = exists().where(Enrollment.student_id == user.id, Enrollment.offering_id == Offering.id)
    return bool(db.session.scalar(select(exists().where(
        Offering.course_id == course.id, staffed | enrolled))))


def visible_offerings(user: User) -> Select:
    """Offerings the user may open: all for registrars and admins, else taught or enrolled ones."""
    return offerings_visible_to(user.id, oversees_all(user))


def offerings_visible_to(user_id, oversees: bool) -> Select:
    """visible_offerings by the user's id, which may be a bindparam (a prebuilt statement)."""
    query = select(Offering)
    if oversees:
        return query
    staffed = select(OfferingStaff.offering_id).where(OfferingStaff.user_id == user_id)
    enrolled = select(Enrollment.offering_id).where(Enrollment.student_id == user_id)
    return query.where(Offering.id.in_(staffed) | Offering.id.in_(enrolled))


def editable_courses(user: User) -> Select:
    query = select(Course)
    if user.role == Role.ADMIN:
        return query
    taught = (select(Offering.course_id).join(OfferingStaff)
              .where(OfferingStaff.user_id == user.id, OfferingStaff.role == StaffRole.INSTRUCTOR))
    return query.where((Course.created_by_id == user.id) | Course.id.in_(taught))
