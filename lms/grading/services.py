"""Grades and their audit trail, release, feedback files and timestamped comments.

Services flush and never commit; the view commits once. Every change to a grade adds its
GradeAudit row in the same transaction, after the grade's own flush: if the audit row cannot be
written, the exception propagates, nothing is committed and the grade change is rolled back with
it. Scores are exact decimals with two places (lms.grading.scores); every figure shown is derived
from the stored raw score. Rubric services live in lms.grading.rubrics and are re-exported here.
"""
from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from lms.assignments.filetypes import IMAGE_HEAD_BYTES, PIXEL_CHECKED, FileRejected, Prefixed, check_pixels
from lms.assignments.models import Assignment, Submission
from lms.auth.models import User
from lms.catalog.models import Enrollment
from lms.db import utcnow
from lms.errors import Conflict, DomainError, Forbidden
from lms.extensions import db
from lms.filenames import display_name
from lms.grading import permissions
from lms.grading.models import FeedbackFile, Grade, GradeAudit, RubricCriterion, RubricLevel, TimedComment
from lms.grading.rubrics import (CriterionSpec, LevelSpec, attach_rubric, copy_rubric,
                                 create_rubric, max_points, normalise_selections, rubric_in_use,
                                 rubric_specs, score_from_rubric, update_rubric)
from lms.grading.scores import CENT, ScoreInvalid, apply_penalty, as_text, parse_score
from lms.storage import TooLarge, get_storage
from lms.video.models import Video

__all__ = [
    # re-exported: rubrics and scores
    "CriterionSpec", "LevelSpec", "ScoreInvalid", "apply_penalty", "attach_rubric", "copy_rubric", "create_rubric",
    "max_points", "parse_score", "rubric_in_use", "rubric_specs", "score_from_rubric", "update_rubric",
    # grades
    "GradeView", "audit", "final_score", "grade_of", "grade_view", "latest_submission", "override_penalty",
    "release", "released_grade", "save_grade", "snapshot", "submissions_of", "write_grade",
    # feedback files and timestamped comments
    "add_feedback_file", "add_timed_comment", "delete_timed_comment", "remove_feedback_file",
    "timed_comments",
]

FEEDBACK_MAX_BYTES = 15 * 1024 * 1024  # under the 16 MiB request cap
MAX_COMMENT = 20_000
SECOND_RE = re.compile(r"^\d{1,6}(?::\d{1,2}){0,2}(?:\.\d{1,3})?$")


def _require(allowed: bool) -> None:
    if not allowed:
        raise Forbidden(_("You may not change grades of this assignment."))


def final_score(grade: Grade, assignment: Assignment | None = None) -> Decimal | None:
    if grade.raw_score is None:
        return None
    assignment = assignment or db.session.get(Assignment, grade.assignment_id)
    return apply_penalty(grade.raw_score, grade.penalty_percent, assignment.floor_percent)


def grade_of(assignment_id: int, student_id: int) -> Grade | None:
    return db.session.scalar(select(Grade).where(Grade.assignment_id == assignment_id,
                                                 Grade.student_id == student_id))


def released_grade(assignment: Assignment, student_id: int) -> Grade | None:
    """The student's grade once the assignment's grades are released; None before."""
    if assignment.released_at is None:
        return None
    grade = grade_of(assignment.id, student_id)
    return grade if grade is not None and grade.raw_score is not None else None


def submissions_of(assignment_id: int, student_id: int) -> list[Submission]:
    return list(db.session.scalars(select(Submission).where(
        Submission.assignment_id == assignment_id, Submission.student_id == student_id).order_by(Submission.attempt)))


def latest_submission(assignment_id: int, student_id: int) -> Submission | None:
    return db.session.scalar(select(Submission).where(
        Submission.assignment_id == assignment_id, Submission.student_id == student_id)
        .order_by(Submission.attempt.desc()).limit(1))


def snapshot(grade: Grade | None) -> dict | None:
    if grade is None:
        return None
    return {"raw_score": as_text(grade.raw_score), "penalty_percent": as_text(grade.penalty_percent),
            "penalty_overridden": bool(grade.penalty_overridden), "rubric_levels": dict(grade.rubric_levels or {}),
            "comment": grade.comment or "", "submission_id": grade.submission_id}


def audit(grade: Grade, actor: User, action: str, old: dict | None, new: dict | None, reason: str = "") -> GradeAudit:
    row = GradeAudit(grade_id=grade.id, assignment_id=grade.assignment_id, student_id=grade.student_id,
                     actor_id=actor.id, action=action, old=old, new=new, reason=(reason or "").strip())
    db.session.add(row)
    return row


def _stale() -> str:
    return _("Someone else changed this grade after you opened it. "
             "Reload the page to see their change, then grade again.")


def _check_version(grade: Grade | None, expected_version: int | None) -> None:
    """expected_version: None skips the check; 0 means 'no grade yet'."""
    if expected_version is not None and (grade.version if grade else 0) != expected_version:
        raise Conflict(_stale())


def flush_grades() -> None:
    """Flush grade rows; a concurrent writer (stale version or duplicate) becomes a Conflict."""
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        raise Conflict(_stale()) from None


def _require_enrolled(assignment: Assignment, student: User) -> None:
    if not db.session.scalar(select(Enrollment.id).where(Enrollment.offering_id == assignment.offering_id,
                                                         Enrollment.student_id == student.id)):
        raise DomainError(_("%(name)s is not enrolled in this offering.", name=student.name_latin))


def save_grade(assignment: Assignment, student: User, actor: User, *, raw_score=None,
               selections: Mapping | None = None, comment: str = "", reason: str = "",
               expected_version: int | None = None, submission: Submission | None = None) -> Grade:
    """Create or edit a student's grade from rubric selections (when given) or a direct raw score.

    The late penalty is the graded submission's stored one unless a grader overrode it. Audited as
    "create" or "edit". Raises Forbidden, ScoreInvalid, DomainError (not enrolled) and Conflict
    (a stale `expected_version` or a concurrent save).
    """
    _require(permissions.can_grade(actor, assignment))
    _require_enrolled(assignment, student)
    if selections and any(str(v).strip() for v in selections.values()):
        if assignment.rubric is None:
            raise ScoreInvalid(_("This assignment has no rubric; enter the score directly."))
        levels = normalise_selections(assignment.rubric, selections)
        score = score_from_rubric(assignment.rubric, levels)
    elif raw_score is not None and str(raw_score).strip():
        levels, score = {}, parse_score(raw_score)
    else:
        raise ScoreInvalid(_("Enter a score or choose a level for every criterion."))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most %(n)d characters).", n=MAX_COMMENT))
    grade = grade_of(assignment.id, student.id)
    _check_version(grade, expected_version)
    if submission is not None and (submission.assignment_id, submission.student_id) != (assignment.id, student.id):
        raise DomainError(_("That submission belongs to another assignment or student."))
    submission = submission or latest_submission(assignment.id, student.id)
    return write_grade(grade, assignment, student.id, actor, score, levels, comment, submission,
                       action="create" if grade is None else "edit", reason=reason)


def write_grade(grade: Grade | None, assignment: Assignment, student_id: int, actor: User, score: Decimal,
                levels: dict, comment: str, submission: Submission | None, *, action: str, reason: str) -> Grade:
    """Set the values and audit the change; nothing is written when nothing changes."""
    old = snapshot(grade)
    if grade is None:
        grade = Grade(assignment_id=assignment.id, student_id=student_id, penalty_percent=Decimal(0),
                      penalty_overridden=False, rubric_levels={}, comment="")
    penalty = grade.penalty_percent if grade.penalty_overridden else \
        (submission.penalty_percent if submission is not None else Decimal(0))
    new = {**(old or {}), "raw_score": as_text(score), "penalty_percent": as_text(penalty),
           "penalty_overridden": bool(grade.penalty_overridden), "rubric_levels": levels, "comment": comment,
           "submission_id": submission.id if submission is not None else grade.submission_id}
    if old == new:
        return grade
    grade.raw_score, grade.penalty_percent, grade.rubric_levels = score, penalty, levels
    grade.comment, grade.graded_by_id = comment, actor.id
    grade.submission_id = new["submission_id"]
    db.session.add(grade)
    flush_grades()
    audit(grade, actor, action, old, new, reason)
    db.session.flush()
    return grade


def override_penalty(grade: Grade, actor: User, penalty, reason: str,
                     expected_version: int | None = None) -> Grade:
    """Set the late penalty by hand (None: back to the submission's stored penalty). A reason is
    required. Audited as "penalty_override". Raises Forbidden, ScoreInvalid, DomainError, Conflict."""
    assignment = db.session.get(Assignment, grade.assignment_id)
    _require(permissions.can_grade(actor, assignment))
    if not (reason or "").strip():
        raise DomainError(_("Give a reason for changing the late penalty."))
    _check_version(grade, expected_version)
    old = snapshot(grade)
    if penalty is None or not str(penalty).strip():
        submission = db.session.get(Submission, grade.submission_id) if grade.submission_id else None
        grade.penalty_percent = submission.penalty_percent if submission else Decimal(0)
        grade.penalty_overridden = False
    else:
        grade.penalty_percent = parse_score(penalty, _("The penalty"))
        grade.penalty_overridden = True
    grade.graded_by_id = actor.id
    flush_grades()
    audit(grade, actor, "penalty_override", old, snapshot(grade), reason)
    db.session.flush()
    return grade


def release(assignment: Assignment, actor: User) -> int:
    """Show the assignment's grades to its students; each graded student gets a "release" audit row.
    Returns how many grades became visible. Raises Forbidden (not an instructor) and DomainError."""
    _require(permissions.can_manage(actor, assignment))
    # One statement decides who releases: two instructors clicking at once do not both audit it.
    released = db.session.execute(update(Assignment).where(
        Assignment.id == assignment.id, Assignment.released_at.is_(None)).values(released_at=utcnow()))
    if released.rowcount != 1:
        raise DomainError(_("The grades of “%(t)s” are already released.", t=assignment.title))
    db.session.refresh(assignment, ["released_at"])
    grades = db.session.scalars(select(Grade).where(Grade.assignment_id == assignment.id,
                                                    Grade.raw_score.is_not(None))).all()
    for grade in grades:
        audit(grade, actor, "release", {"released": False},
              {"released": True, "final_score": as_text(final_score(grade, assignment))})
    from lms.notifications.jobs import record

    record("grades_released", assignment_id=assignment.id)  # the graded students hear of it from the worker
    db.session.flush()
    return len(grades)


@dataclass
class GradeView:
    """What a student (or the grading page) shows for one grade."""

    grade: Grade
    final: Decimal | None
    levels: list[tuple[RubricCriterion, RubricLevel]]
    files: list[FeedbackFile]
    comments: list[TimedComment]


def grade_view(grade: Grade, assignment: Assignment | None = None) -> GradeView:
    assignment = assignment or db.session.get(Assignment, grade.assignment_id)
    chosen = {int(k): v for k, v in (grade.rubric_levels or {}).items()}
    levels = [(c, lv) for c in (assignment.rubric.criteria if assignment.rubric else ())
              for lv in c.levels if chosen.get(c.id) == lv.id]
    comments = timed_comments(grade.submission_id) if grade.submission_id else []
    return GradeView(grade, final_score(grade, assignment), levels, list(grade.files), comments)


# --- feedback files ------------------------------------------------------------------------------

def add_feedback_file(grade: Grade, actor: User, stream: BinaryIO, filename: str,
                      max_bytes: int | None = None) -> FeedbackFile:
    """Store the file under a generated key and attach it to the grade (audited as "feedback_file").
    The caller deletes `storage_key` if its commit fails. Raises Forbidden and DomainError (too large)."""
    _require(permissions.can_grade(actor, db.session.get(Assignment, grade.assignment_id)))
    name = display_name(filename, "feedback")
    max_bytes = max_bytes or FEEDBACK_MAX_BYTES
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type in PIXEL_CHECKED:  # shown inline to the student: no pixel floods
        head = stream.read(IMAGE_HEAD_BYTES)
        try:
            check_pixels(name, head)
        except FileRejected as exc:
            raise DomainError(str(exc)) from None
        stream = Prefixed(head, stream)
    key = f"feedback/{grade.assignment_id}/{uuid.uuid4().hex}"
    try:
        size, sha256 = get_storage().put_stream(key, stream, max_bytes=max_bytes)
    except TooLarge:
        raise DomainError(_("“%(name)s” is larger than %(mb)d MB.", name=name, mb=max_bytes // 2**20)) from None
    row = FeedbackFile(grade_id=grade.id, storage_key=key, filename=name, size=size, sha256=sha256,
                       media_type=media_type)
    db.session.add(row)
    audit(grade, actor, "feedback_file", None, {"file": name, "sha256": sha256})
    db.session.flush()
    return row


def remove_feedback_file(feedback: FeedbackFile, actor: User) -> str:
    """Detach the file (audited); returns its storage key for the caller to delete after commit."""
    grade = feedback.grade
    _require(permissions.can_grade(actor, db.session.get(Assignment, grade.assignment_id)))
    audit(grade, actor, "feedback_file", {"file": feedback.filename, "sha256": feedback.sha256}, None)
    key = feedback.storage_key
    db.session.delete(feedback)
    db.session.flush()
    return key


# --- timestamped comments ------------------------------------------------------------------------

def parse_second(value) -> Decimal:
    """'83.5', '1:23.5' or '0:01:23' → Decimal seconds; -1 when unreadable."""
    text = str(value).strip()
    if not SECOND_RE.match(text):
        return Decimal(-1)
    total = Decimal(0)
    for part in text.split(":"):
        total = total * 60 + Decimal(part)
    return total.quantize(CENT, ROUND_HALF_UP)


def add_timed_comment(submission: Submission, actor: User, second, text: str) -> TimedComment:
    """A note at a second of the submission's video. Raises Forbidden and DomainError."""
    _require(permissions.can_grade(actor, submission.assignment))
    if submission.video_id is None:
        raise DomainError(_("This submission has no video."))
    at = parse_second(second)
    duration = db.session.get(Video, submission.video_id).duration
    if at < 0 or (duration is not None and at > Decimal(str(duration)) + 1):
        raise DomainError(_("Choose a moment inside the video."))
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise DomainError(_("Write a comment of 1 to 2000 characters."))
    comment = TimedComment(submission_id=submission.id, author_id=actor.id, second=at, text=text)
    db.session.add(comment)
    db.session.flush()
    return comment


def timed_comments(submission_id: int) -> list[TimedComment]:
    return list(db.session.scalars(select(TimedComment).where(TimedComment.submission_id == submission_id)
                                   .order_by(TimedComment.second, TimedComment.id)))


def delete_timed_comment(comment: TimedComment, actor: User) -> None:
    """Its author, or an instructor of the offering. Raises Forbidden."""
    submission = db.session.get(Submission, comment.submission_id)
    if comment.author_id != actor.id and not permissions.can_manage(actor, submission.assignment):
        raise Forbidden(_("Only its author can delete this comment."))
    db.session.delete(comment)
    db.session.flush()
