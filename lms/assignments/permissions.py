"""Who may manage, see and submit assignments, and see submissions and their files."""
from __future__ import annotations

from lms.assignments.models import Assignment, Submission
from lms.auth.models import User
from lms.catalog import permissions as catalog
from lms.catalog.models import StaffRole


def can_manage(user: User, assignment_or_offering) -> bool:
    """Instructors of the offering (not assistants) create and edit assignments."""
    offering = getattr(assignment_or_offering, "offering", assignment_or_offering)
    return catalog.staff_role(user, offering) == StaffRole.INSTRUCTOR or \
        (user.is_authenticated and user.role == "admin")


def is_staff(user: User, assignment: Assignment) -> bool:
    return catalog.staff_role(user, assignment.offering) is not None or catalog.oversees_all(user)


def can_view(user: User, assignment: Assignment) -> bool:
    return catalog.can_view_offering(user, assignment.offering)


def can_submit(user: User, assignment: Assignment) -> bool:
    return catalog.enrollment_of(user, assignment.offering) is not None


def can_view_submission(user: User, submission: Submission) -> bool:
    """The student who made it, the offering's staff, registrars and admins; nobody else."""
    if not user.is_authenticated:
        return False
    return submission.student_id == user.id or is_staff(user, submission.assignment)


def can_view_submission_video(user: User, video) -> bool:
    from lms.extensions import db

    submission = db.session.scalar(db.select(Submission).where(Submission.video_id == video.id))
    return submission is not None and can_view_submission(user, submission)
