"""Grading: one assignment's students, grading one submission, penalties, release, feedback files,
timestamped comments, and the submission's files and video for staff."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.assignments.models import Assignment, Submission
from lms.assignments.views import send_stored
from lms.auth.models import User
from lms.catalog.models import Enrollment
from lms.errors import attempt
from lms.extensions import db
from lms.forms import options
from lms.grading import permissions, services
from lms.grading.forms import AttachRubricForm, GradeForm, PenaltyForm, TimedCommentForm
from lms.grading.models import FeedbackFile, Grade, GradeAudit, Rubric, TimedComment
from lms.loading import load_or_404
from lms.storage import get_storage

bp = Blueprint("grading", __name__, url_prefix="/grading")


def _grading_page_url(assignment_id: int, student_id: int, **args) -> str:
    return url_for("grading.grade", assignment_id=assignment_id, student_id=student_id, **args)


def _student_of(assignment: Assignment, student_id: int) -> User:
    student = db.session.get(User, student_id)
    if student is None or not db.session.scalar(select(Enrollment.id).where(
            Enrollment.offering_id == assignment.offering_id, Enrollment.student_id == student_id)):
        abort(404)
    return student


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() else None


def _discard(keys: list[str]) -> None:
    """Files stored for a transaction that did not commit: no row names them."""
    for key in keys:
        get_storage().delete(key)


@bp.route("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_view_grading)
    students = db.session.scalars(select(User).join(Enrollment, Enrollment.student_id == User.id).where(
        Enrollment.offering_id == assignment.offering_id).order_by(User.student_number, User.id)).all()
    grades = {g.student_id: g for g in db.session.scalars(select(Grade).where(Grade.assignment_id == assignment.id))}
    latest: dict[int, Submission] = {}
    for sub in db.session.scalars(select(Submission).where(Submission.assignment_id == assignment.id)
                                  .order_by(Submission.attempt)):
        latest[sub.student_id] = sub
    form = AttachRubricForm(rubric_id=assignment.rubric_id or 0)
    form.rubric_id.choices = options([(0, _("No rubric: scores are entered directly"))] + [
        (r.id, r.title) for r in db.session.scalars(permissions.visible_rubrics(current_user))])
    if assignment.rubric and assignment.rubric_id not in [c.value for c in form.rubric_id.choices]:
        form.rubric_id.choices.extend(options([(assignment.rubric_id, assignment.rubric.title)]))
    return render_template("grading/assignment.html", assignment=assignment, students=students, grades=grades,
                           latest=latest, rubric_form=form, final_score=services.final_score,
                           can_manage=permissions.can_manage(current_user, assignment),
                           can_grade=permissions.can_grade(current_user, assignment))


@bp.route("/assignments/<int:assignment_id>/rubric", methods=["POST"])
@login_required
def attach_rubric(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_manage)
    rubric_id = request.form.get("rubric_id", default=0, type=int)  # CSRF is checked for every POST
    rubric = db.session.get(Rubric, rubric_id) if rubric_id else None
    if rubric_id and rubric is None:
        abort(404)
    if attempt(lambda: services.attach_rubric(assignment, rubric, current_user) or True):
        flash(_("Rubric saved for this assignment."), "success")
    return redirect(url_for("grading.assignment", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/release", methods=["POST"])
@login_required
def release(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_manage)
    count = attempt(lambda: services.release(assignment, current_user))
    if count is not None:
        flash(_("Grades released: students now see %(n)d grade(s).", n=count), "success")
    if request.form.get("next") == "gradebook":
        return redirect(url_for("gradebook.page", offering_id=assignment.offering_id))
    return redirect(url_for("grading.assignment", assignment_id=assignment.id))


def _grade_page(assignment: Assignment, student: User, form: GradeForm | None = None, status: int = 200,
                selected: dict | None = None):
    submissions = services.submissions_of(assignment.id, student.id)
    grade = services.grade_of(assignment.id, student.id)
    wanted = request.args.get("attempt", type=int)
    submission = next((s for s in submissions if s.attempt == wanted), None) or \
        next((s for s in submissions if grade and s.id == grade.submission_id), None) or \
        (submissions[-1] if submissions else None)
    if form is None:
        form = GradeForm(score=str(grade.raw_score) if grade and grade.raw_score is not None else "",
                         comment=grade.comment if grade else "", version=str(grade.version if grade else 0))
    form.submission_id.data = str(submission.id) if submission else ""
    if selected is None:
        selected = {int(k): v for k, v in (grade.rubric_levels if grade else {}).items()}
    audits = db.session.scalars(select(GradeAudit).where(GradeAudit.assignment_id == assignment.id,
                                                         GradeAudit.student_id == student.id)
                                .order_by(GradeAudit.at.desc(), GradeAudit.id.desc())).all()
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({a.actor_id for a in audits})))}
    return render_template(
        "grading/grade.html", assignment=assignment, student=student, submissions=submissions,
        submission=submission, grade=grade, form=form, selected=selected, audits=audits, actors=actors,
        view=services.grade_view(grade, assignment) if grade and grade.raw_score is not None else None,
        penalty_form=PenaltyForm(prefix="penalty", version=str(grade.version)) if grade else None,
        comment_form=TimedCommentForm(), player=submission_player(submission) if submission else None,
        comments=services.timed_comments(submission.id) if submission else [],
        can_grade=permissions.can_grade(current_user, assignment)), status


@bp.route("/assignments/<int:assignment_id>/students/<int:student_id>", methods=["GET", "POST"])
@login_required
def grade(assignment_id: int, student_id: int):
    check = permissions.can_grade if request.method == "POST" else permissions.can_view_grading
    assignment = load_or_404(Assignment, assignment_id, check)
    student = _student_of(assignment, student_id)
    if request.method == "GET":
        return _grade_page(assignment, student)
    form = GradeForm()
    selected = {int(k[6:]): int(v) for k, v in request.form.items()
                if k.startswith("level-") and k[6:].isdecimal() and v.isdecimal()}
    if not form.validate_on_submit():
        return _grade_page(assignment, student, form, 400, selected)
    submission_id = _number(form.submission_id.data)
    submission = db.session.get(Submission, submission_id) if submission_id else None
    stored: list[str] = []

    def save():
        saved = services.save_grade(
            assignment, student, current_user, raw_score=form.score.data,
            selections={str(k): v for k, v in selected.items()}, comment=form.comment.data or "",
            reason=form.reason.data or "", submission=submission,
            expected_version=_number(form.version.data))
        for upload in form.files.data or []:
            if upload and upload.filename:
                row = services.add_feedback_file(saved, current_user, upload.stream, upload.filename)
                stored.append(row.storage_key)
        return saved

    try:
        saved = attempt(save)
    except Exception:
        _discard(stored)
        raise
    if saved is None:
        _discard(stored)
        return _grade_page(assignment, student, form, 400, selected)
    flash(_("Grade saved: %(score)s.", score=services.final_score(saved, assignment)), "success")
    return redirect(_grading_page_url(assignment.id, student.id))


@bp.route("/grades/<int:grade_id>/penalty", methods=["POST"])
@login_required
def penalty(grade_id: int):
    grade = load_or_404(Grade, grade_id)
    assignment = db.session.get(Assignment, grade.assignment_id)
    if not permissions.can_grade(current_user, assignment):
        abort(403)
    form = PenaltyForm(prefix="penalty")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
    elif attempt(lambda: services.override_penalty(
            grade, current_user, form.penalty.data, form.reason.data,
            _number(form.version.data))):
        flash(_("Late penalty changed."), "success")
    return redirect(_grading_page_url(assignment.id, grade.student_id))


@bp.route("/feedback/<int:file_id>")
@login_required
def feedback_file(file_id: int):
    feedback = load_or_404(FeedbackFile, file_id, permissions.can_download_feedback)
    return send_stored(feedback.storage_key, feedback.filename, feedback.media_type)


@bp.route("/feedback/<int:file_id>/delete", methods=["POST"])
@login_required
def delete_feedback_file(file_id: int):
    feedback = load_or_404(FeedbackFile, file_id)
    grade = feedback.grade
    assignment = db.session.get(Assignment, grade.assignment_id)
    if not permissions.can_grade(current_user, assignment):
        abort(403)
    key = attempt(lambda: services.remove_feedback_file(feedback, current_user))
    if key:
        get_storage().delete(key)
        flash(_("Feedback file removed."), "success")
    return redirect(_grading_page_url(assignment.id, grade.student_id))


@bp.route("/submissions/<int:submission_id>/comments", methods=["POST"])
@login_required
def add_comment(submission_id: int):
    submission = load_or_404(Submission, submission_id)
    if not permissions.can_grade(current_user, submission.assignment):
        abort(403)
    form = TimedCommentForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
    elif attempt(lambda: services.add_timed_comment(submission, current_user, form.second.data, form.text.data)):
        flash(_("Comment added."), "success")
    return redirect(_grading_page_url(submission.assignment_id, submission.student_id, attempt=submission.attempt))


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int):
    comment = load_or_404(TimedComment, comment_id)
    submission = db.session.get(Submission, comment.submission_id)
    if not permissions.can_grade(current_user, submission.assignment):
        abort(403)
    if attempt(lambda: services.delete_timed_comment(comment, current_user) or True):
        flash(_("Comment deleted."), "success")
    return redirect(_grading_page_url(submission.assignment_id, submission.student_id, attempt=submission.attempt))


# --- the submission's video, with the lesson player --------------------------------------------

def submission_player(submission: Submission) -> dict | None:
    """What templates/grading/_submission_player.html needs, or None without a video."""
    from lms.assignments.views import submission_player as player

    return player(submission) if submission.video_id else None


def timecode(second) -> str:
    """83.5 → '1:23.50'."""
    minutes, rest = divmod(Decimal(second), 60)
    return f"{int(minutes)}:{rest:05.2f}"


def register(app: Flask) -> None:
    """The grading, rubric and gradebook pages, and the template helpers other features use."""
    from lms.grading import gradebook_views, rubric_views

    for blueprint in (bp, rubric_views.bp, gradebook_views.bp):
        app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        released_grade=services.released_grade, grade_feedback=services.grade_view, timecode=timecode,
        can_view_gradebook=lambda offering: permissions.can_view_gradebook(current_user, offering))
