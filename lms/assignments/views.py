"""Assignment pages: instructors create and extend; students read, submit and see their receipts."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from lms import markdown
from lms.assignments import permissions, services
from lms.assignments.filetypes import INLINE_SAFE
from lms.assignments.forms import AssignmentForm, ExtensionForm, SubmitForm, extensions_of
from lms.assignments.models import Assignment, GradeCategory, Submission, SubmissionFile, SubmissionKind
from lms.catalog import permissions as catalog_permissions
from lms.catalog.models import Enrollment, Offering
from lms.errors import DomainError
from lms.extensions import db
from lms.loading import load_or_404
from lms.people.csv_import import find_student
from lms.storage import TooLarge
from lms.storage.delivery import deliver
from lms.uploads import services as uploads

bp = Blueprint("assignments", __name__)


def to_utc(local: datetime | None, zone: str) -> datetime | None:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) if local else None


def to_local(moment: datetime | None, zone: str) -> datetime | None:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if moment else None


@bp.route("/offerings/<int:offering_id>/assignments")
@login_required
def index(offering_id: int):
    offering = load_or_404(Offering, offering_id, catalog_permissions.can_view_offering)
    rows = db.session.scalars(select(Assignment).where(Assignment.offering_id == offering.id)
                              .order_by(Assignment.due_at)).all()
    mine = {}
    if catalog_permissions.enrollment_of(current_user, offering):
        for sub in db.session.scalars(select(Submission).where(
                Submission.student_id == current_user.id,
                Submission.assignment_id.in_([a.id for a in rows]))):
            mine[sub.assignment_id] = max(mine.get(sub.assignment_id, sub), sub, key=lambda s: s.attempt)
    return render_template("assignments/index.html", offering=offering, assignments=rows, mine=mine,
                           can_manage=permissions.can_manage(current_user, offering))


def _category(offering: Offering, name: str) -> GradeCategory:
    category = db.session.scalar(select(GradeCategory).where(
        GradeCategory.offering_id == offering.id, GradeCategory.name == name.strip()))
    if category is None:  # equal weights until the instructor sets them in the gradebook
        category = GradeCategory(offering_id=offering.id, name=name.strip(), weight=100)
        db.session.add(category)
        db.session.flush()
    return category


def _apply(form: AssignmentForm, assignment: Assignment, offering: Offering) -> None:
    zone = form.timezone.data
    assignment.title, assignment.instructions_md = form.title.data.strip(), form.instructions_md.data or ""
    assignment.points, assignment.kinds = form.points.data, list(form.kinds.data)
    assignment.allowed_extensions = extensions_of(form.allowed_extensions.data)
    assignment.max_file_bytes = form.max_file_mb.data * 1024 * 1024
    assignment.due_at, assignment.cutoff_at = to_utc(form.due_at.data, zone), to_utc(form.cutoff_at.data, zone)
    assignment.attempts_allowed, assignment.grace_minutes = form.attempts_allowed.data, form.grace_minutes.data
    assignment.penalty_percent, assignment.penalty_unit = form.penalty_percent.data, form.penalty_unit.data
    assignment.max_penalty_percent, assignment.floor_percent = form.max_penalty_percent.data, form.floor_percent.data
    assignment.category_id = _category(offering, form.category.data).id
    assignment.portfolio_feedback = form.portfolio_feedback.data


@bp.route("/offerings/<int:offering_id>/assignments/new", methods=["GET", "POST"])
@login_required
def new(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_manage)
    form = AssignmentForm()
    if form.validate_on_submit():
        assignment = Assignment(offering_id=offering.id, created_by_id=current_user.id)
        _apply(form, assignment, offering)
        db.session.add(assignment)
        db.session.commit()
        flash(_("Assignment created."), "success")
        return redirect(url_for("assignments.show", assignment_id=assignment.id))
    return render_template("assignments/form.html", form=form, offering=offering, assignment=None)


@bp.route("/assignments/<int:assignment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_manage)
    form = AssignmentForm(obj=assignment)
    if request.method == "GET":
        zone = form.timezone.data
        form.due_at.data, form.cutoff_at.data = to_local(assignment.due_at, zone), to_local(assignment.cutoff_at, zone)
        form.allowed_extensions.data = ", ".join(assignment.allowed_extensions)
        form.max_file_mb.data = assignment.max_file_bytes // (1024 * 1024)
        form.category.data = assignment.category.name if assignment.category else "Assignments"
    if form.validate_on_submit():
        _apply(form, assignment, assignment.offering)
        db.session.commit()
        flash(_("Assignment saved."), "success")
        return redirect(url_for("assignments.show", assignment_id=assignment.id))
    return render_template("assignments/form.html", form=form, offering=assignment.offering, assignment=assignment)


@bp.route("/assignments/<int:assignment_id>")
@login_required
def show(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_view)
    instructions = markdown.render(assignment.instructions_md)
    if permissions.is_staff(current_user, assignment):
        return _staff_view(assignment, instructions)
    due_at, cutoff_at, extension = services.deadline_for(assignment, current_user.id)
    used = services.attempts_used(assignment, current_user.id)
    form = SubmitForm(idempotency_key=uuid.uuid4().hex)
    return render_template("assignments/show.html", assignment=assignment, instructions=instructions,
                           due_at=due_at, cutoff_at=cutoff_at, extension=extension, used=used, form=form,
                           history=services.history(assignment, current_user.id),
                           closed=bool(cutoff_at and datetime.now(UTC) > cutoff_at)
                           or bool(assignment.attempts_allowed and used >= assignment.attempts_allowed))


def _staff_view(assignment: Assignment, instructions):
    enrollments = db.session.scalars(select(Enrollment).where(Enrollment.offering_id == assignment.offering_id)).all()
    latest: dict[int, Submission] = {}
    for sub in db.session.scalars(select(Submission).where(Submission.assignment_id == assignment.id)):
        if sub.student_id not in latest or sub.attempt > latest[sub.student_id].attempt:
            latest[sub.student_id] = sub
    return render_template("assignments/staff.html", assignment=assignment, instructions=instructions,
                           enrollments=sorted(enrollments, key=lambda e: e.student.name_latin), latest=latest,
                           can_manage=permissions.can_manage(current_user, assignment),
                           extension_form=ExtensionForm(prefix="ext"))


def _uploads(name: str) -> list[services.Upload]:
    return [services.Upload(f.stream, f.filename) for f in request.files.getlist(name) if f and f.filename]


STAGED_PURPOSES = {"video": "submission_video", "game": "game_build"}


def _staged_media(assignment: Assignment, kind: str, idempotency_key: str) -> services.Upload | None:
    """A video or build the browser already sent in parts (static/js/direct-upload.js)."""
    token = request.form.get("media_upload")
    if not token or kind not in STAGED_PURPOSES or services.find_by_key(idempotency_key):
        return None
    staged = uploads.claim(current_user, token, STAGED_PURPOSES[kind], assignment.id)
    return services.Upload(None, staged.filename, key=staged.key, size=staged.size, sha256=staged.sha256)


@bp.route("/assignments/<int:assignment_id>/submit", methods=["POST"])
@login_required
def submit(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_submit)
    form = SubmitForm()
    if not form.validate_on_submit() or form.kind.data not in SubmissionKind._value2member_map_:
        abort(400)
    key = form.idempotency_key.data or uuid.uuid4().hex
    media = _uploads("media")
    try:
        staged = _staged_media(assignment, form.kind.data, key)
        if staged:
            media = [staged]
        submission = services.submit(assignment, current_user.id, SubmissionKind(form.kind.data), key,
                                     text=form.text.data, url=form.url.data, files=_uploads("files"),
                                     media=media[0] if media else None)
        db.session.commit()
    except (TooLarge, RequestEntityTooLarge):
        db.session.rollback()
        flash(_("A file is larger than the %(mb)d MB allowed for this assignment. Nothing was submitted.",
                mb=assignment.max_file_bytes // (1024 * 1024)), "error")
        return redirect(url_for("assignments.show", assignment_id=assignment.id)), 303
    except DomainError as exc:
        db.session.rollback()
        earlier = services.find_by_key(key)
        if earlier is not None and earlier.student_id == current_user.id:  # the double click's twin won
            return redirect(url_for("assignments.receipt", submission_id=earlier.id), 303)
        flash(_("Nothing was submitted: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("assignments.show", assignment_id=assignment.id)), 303
    except IntegrityError:  # the same form, sent twice at once: the other request won
        db.session.rollback()
        submission = services.find_by_key(key)
        if submission is None:
            raise
    return redirect(url_for("assignments.receipt", submission_id=submission.id), 303)


@bp.route("/submissions/<int:submission_id>")
@login_required
def receipt(submission_id: int):
    submission = load_or_404(Submission, submission_id, permissions.can_view_submission)
    return render_template("assignments/receipt.html", submission=submission, assignment=submission.assignment,
                           is_staff=permissions.is_staff(current_user, submission.assignment))


@bp.route("/submissions/<int:submission_id>/files/<int:file_id>")
@login_required
def download(submission_id: int, file_id: int):
    submission = load_or_404(Submission, submission_id, permissions.can_view_submission)
    record = db.session.get(SubmissionFile, file_id)
    if record is None or record.submission_id != submission.id:
        abort(404)
    return send_stored(record.storage_key, record.filename, record.media_type)


def send_stored(key: str, filename: str, media_type: str):
    """Student files: nosniff everywhere, attachments unless a safe image/video/PDF, never HTML inline."""
    inline = media_type in INLINE_SAFE
    # On S3 a redirect to the bucket's origin, which holds no cookies of ours.
    response = deliver(key, mimetype=media_type if inline else "application/octet-stream", filename=filename,
                       inline=inline)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/assignments/<int:assignment_id>/extensions", methods=["POST"])
@login_required
def extend(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_manage)
    form = ExtensionForm(prefix="ext")
    if form.validate_on_submit():
        student = find_student(form.student.data)
        enrolled = student and catalog_permissions.enrollment_of(student, assignment.offering)
        if not enrolled:
            flash(_("No student with the number or email %(s)s in this offering.", s=form.student.data), "error")
        else:
            try:
                services.grant_extension(assignment, student.id, to_utc(form.due_at.data, form.timezone.data),
                                         to_utc(form.cutoff_at.data, form.timezone.data), form.reason.data,
                                         current_user.id)
                db.session.commit()
                flash(_("Extension granted to %(name)s.", name=student.name_latin), "success")
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "error")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("assignments.show", assignment_id=assignment.id))


def _submission_upload_limit() -> None:
    # Before CSRF protection parses the form: the per-file caps are enforced while storing.
    if request.endpoint == "assignments.submit":
        request.max_content_length = current_app.config["SUBMISSION_MAX_BYTES"]


def submission_player(submission: Submission) -> dict:
    """The video of a video submission: its state, and signed URLs once it is ready."""
    from lms.video import services as video_services
    from lms.video.models import Video, VideoState
    from lms.video.views import playback_urls

    video = db.session.get(Video, submission.video_id) if submission.video_id else None
    if video is None:
        return {"state": "missing"}
    status = video_services.status(video)
    if video.state != VideoState.READY:
        return {"state": status.state, "error": status.error, "percent": round(status.progress * 100), "video": video}
    return {"state": "ready", **playback_urls(video)}


def register(app: Flask) -> None:
    from lms.assignments import calendar

    app.jinja_env.globals["submission_player"] = submission_player
    app.jinja_env.globals["upcoming_deadlines"] = services.upcoming_for
    app.register_blueprint(bp)
    app.register_blueprint(calendar.bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _submission_upload_limit)
