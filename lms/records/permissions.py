"""Who may see and change the academic record. Object checks and list filters together.

Students see only their own record. An offering's instructors (not its assistants) submit its
results; registrars and admins see every record, review, finalize, amend, import partner grades and
manage the schemes.
"""
from __future__ import annotations

from sqlalchemy import Select, select

from lms.auth.models import Role, User
from lms.catalog.models import Offering, StaffRole
from lms.catalog.permissions import oversees_all, staff_role
from lms.records.models import FinalResult


def can_manage_records(user: User) -> bool:
    """Review, finalize, amend, import and change schemes: registrars and admins."""
    return oversees_all(user)


def can_view_record(user: User, student: User) -> bool:
    """A student's own record, or any record for registrars and admins."""
    if not user.is_authenticated or student.role != Role.STUDENT:
        return False
    return oversees_all(user) or user.id == student.id


def can_submit_results(user: User, offering: Offering) -> bool:
    """The offering's instructors, and registrars and admins (who may submit on their behalf)."""
    return oversees_all(user) or staff_role(user, offering) == StaffRole.INSTRUCTOR


def can_review_offering(user: User, offering: Offering) -> bool:
    return can_manage_records(user)


def can_amend(user: User, result: FinalResult) -> bool:
    return can_manage_records(user)


def visible_results(user: User) -> Select:
    """Final results the user may read: their own for students, all for registrars and admins,
    those of the offerings they teach for instructors."""
    query = select(FinalResult)
    if oversees_all(user):
        return query
    if user.role == Role.STUDENT:
        return query.where(FinalResult.student_id == user.id)
    from lms.catalog.models import OfferingStaff

    taught = select(OfferingStaff.offering_id).where(OfferingStaff.user_id == user.id,
                                                     OfferingStaff.role == StaffRole.INSTRUCTOR)
    return query.where(FinalResult.offering_id.in_(taught))
