"""Who may grade, release, see grades and edit rubrics. Object checks and list filters together.

Staff of THIS offering (instructor or teaching assistant) grade its assignments; only its
instructors release grades and grant extensions. Registrars and admins see every gradebook but
change nothing here. A student sees their own grade only once the assignment's grades are released.
"""
from __future__ import annotations

from sqlalchemy import Select, select

from lms.assignments.models import Assignment, Submission
from lms.auth.models import Role, User
from lms.catalog.models import Offering, StaffRole
from lms.catalog.permissions import oversees_all, staff_role
from lms.grading.models import FeedbackFile, Grade, Rubric
from lms.extensions import db


def can_grade_offering(user: User, offering: Offering) -> bool:
    return staff_role(user, offering) is not None


def can_grade(user: User, assignment: Assignment) -> bool:
    """Instructors and teaching assistants of the assignment's own offering."""
    return can_grade_offering(user, assignment.offering)


def can_manage_offering(user: User, offering: Offering) -> bool:
    """Release grades and grant extensions: the offering's instructors, not its assistants."""
    return staff_role(user, offering) == StaffRole.INSTRUCTOR


def can_manage(user: User, assignment: Assignment) -> bool:
    return can_manage_offering(user, assignment.offering)


def can_view_gradebook(user: User, offering: Offering) -> bool:
    """The offering's staff, registrars and admins."""
    return oversees_all(user) or staff_role(user, offering) is not None


def can_view_grading(user: User, assignment: Assignment) -> bool:
    return can_view_gradebook(user, assignment.offering)


def can_view_submission(user: User, submission: Submission) -> bool:
    """Staff-side view of a submission (its files and video): graders and overseers."""
    return can_view_grading(user, submission.assignment)


def grade_is_released(grade: Grade, assignment: Assignment | None = None) -> bool:
    assignment = assignment or db.session.get(Assignment, grade.assignment_id)
    return assignment.released_at is not None and grade.raw_score is not None


def can_download_feedback(user: User, feedback: FeedbackFile) -> bool:
    """Staff and overseers always; the graded student once the grade is released."""
    grade = feedback.grade
    assignment = db.session.get(Assignment, grade.assignment_id)
    if can_view_grading(user, assignment):
        return True
    return user.is_authenticated and grade.student_id == user.id and grade_is_released(grade, assignment)


def can_author_rubrics(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.ADMIN)


def can_edit_rubric(user: User, rubric: Rubric) -> bool:
    return user.is_authenticated and rubric.owner_id == user.id


def can_use_rubric(user: User, rubric: Rubric) -> bool:
    """Read or copy: the owner, and graders of any assignment the rubric is attached to."""
    if can_edit_rubric(user, rubric):
        return True
    if not user.is_authenticated:
        return False
    offerings = db.session.scalars(select(Assignment.offering_id).where(Assignment.rubric_id == rubric.id)).all()
    return any(can_grade_offering(user, db.session.get(Offering, oid)) for oid in set(offerings))


def visible_rubrics(user: User) -> Select:
    """Rubrics a user may attach to an assignment: their own."""
    return select(Rubric).where(Rubric.owner_id == user.id).order_by(Rubric.title, Rubric.id)
