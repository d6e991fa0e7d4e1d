"""Transcript downloads (PDF, CSV, CLR JSON) for one student, and cohort exports as jobs."""
from __future__ import annotations

import io

from flask import (Blueprint, Flask, abort, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange

from lms.filenames import content_disposition
from lms.auth.models import Role, User
from lms.catalog.models import Program
from lms.catalog.permissions import oversees_all
from lms.extensions import db
from lms.forms import options
from lms.jobs.models import Job, JobState
from lms.loading import load_or_404
from lms.records import clr, export_jobs, exports, issuing
from lms.storage.delivery import deliver

bp = Blueprint("record_exports", __name__)
STUDENT_FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "jwt": "application/vc+jwt"}


# Permission checks for exports (lms/records/permissions.py is being written in parallel; these two
# belong beside its record checks once both land).
def can_export_transcript(user: User, student: User) -> bool:
    """A student their own transcript; registrars and admins anyone's."""
    if oversees_all(user):
        return True
    return user.is_authenticated and user.id == student.id and student.role == Role.STUDENT


def can_manage_exports(user: User, job: Job | None = None) -> bool:
    return oversees_all(user) and (job is None or job.kind == export_jobs.TRANSCRIPT_EXPORT)


def _attachment(data: bytes, mimetype: str, name: str):
    response = send_file(io.BytesIO(data), mimetype=mimetype, max_age=0)
    response.headers["Content-Type"] = mimetype  # as given: werkzeug would add a second "; charset"
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _record_page(student: User):
    if can_manage_exports(current_user):
        return redirect(url_for("records.student", student_id=student.id))
    return redirect(url_for("records.me"))


@bp.route("/records/students/<int:student_id>/transcript.<any(pdf, csv, jwt):fmt>")
@login_required
def student_transcript(student_id: int, fmt: str):
    """CSV as it is; the CLR 2.0 transcript signed (VC-JOSE); the PDF with the /verify link and QR
    code of a signed CLR issued with it (when there is a finalized result to sign)."""
    student = load_or_404(User, student_id, can_export_transcript)
    if student.role != Role.STUDENT:
        abort(404)
    item = exports.transcript(student.id)
    name = f"transcript-{student.student_number or student.id}"
    if fmt == "csv":
        out = io.StringIO()
        exports.write_csv(out, [item])
        return _attachment(out.getvalue().encode("utf-8"), STUDENT_FORMATS[fmt], f"{name}.csv")
    from lms.records.exports_pdf import render_pdf

    try:
        issued = issuing.signed_transcript(item)
    except clr.NothingToCertify as exc:
        if fmt == "jwt":
            flash(exc.message, "error")
            return _record_page(student)
        issued = None  # a PDF of a record with nothing finalized yet: shown, but nothing to verify
    data = issued.token.encode() if fmt == "jwt" else render_pdf(
        item, verify_url=issuing.verify_url(issued) if issued else None)
    db.session.commit()
    return _attachment(data, STUDENT_FORMATS[fmt], f"{name}.clr.jwt" if fmt == "jwt" else f"{name}.pdf")


class CohortExportForm(FlaskForm):
    program = SelectField(_l("Program"), coerce=int, validators=[DataRequired()])
    cohort_year = IntegerField(_l("Cohort year"), validators=[DataRequired(), NumberRange(2000, 2100)])
    format = SelectField(_l("Format"))


def _require_manager() -> None:
    if not can_manage_exports(current_user):
        abort(403)


@bp.route("/records/exports", methods=["GET", "POST"])
@login_required
def cohort_exports():
    _require_manager()
    form = CohortExportForm()
    form.program.choices = options((p.id, f"{p.code} — {p.name_en}")
                                   for p in db.session.scalars(select(Program).order_by(Program.code)))
    form.format.choices = options([("csv", "CSV"), ("clr", _l("CLR 2.0, signed (zip, one file per student)")),
                                   ("pdf", _l("PDF transcripts (zip)"))])
    if form.validate_on_submit():
        job = export_jobs.start_export(form.program.data, form.cohort_year.data, form.format.data, current_user.id)
        db.session.commit()
        return redirect(url_for("record_exports.export_status", job_id=job.id))
    recent = db.session.scalars(select(Job).where(Job.kind == export_jobs.TRANSCRIPT_EXPORT)
                                .order_by(Job.id.desc()).limit(20)).all()
    programs = {p.id: p for p in db.session.scalars(select(Program))}
    return render_template("record_exports/index.html", form=form, recent=recent, programs=programs)


def _status(job: Job) -> dict:
    ready = job.state == JobState.DONE
    return {"state": str(job.state), "percent": round(job.progress * 100), "ready": ready,
            "error": job.last_error if job.state in (JobState.FAILED, JobState.DEAD) else None,
            "download_url": url_for("record_exports.export_download", job_id=job.id) if ready else None}


@bp.route("/records/exports/<int:job_id>")
@login_required
def export_status(job_id: int):
    job = load_or_404(Job, job_id, can_manage_exports)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(_status(job))
    program = db.session.get(Program, job.payload["program_id"])
    return render_template("record_exports/status.html", job=job, status=_status(job), program=program)


@bp.route("/records/exports/<int:job_id>/download")
@login_required
def export_download(job_id: int):
    job = load_or_404(Job, job_id, can_manage_exports)
    if job.state != JobState.DONE:
        abort(404)
    response = deliver(export_jobs.storage_key(job), mimetype=export_jobs.media_type(job),
                       filename=export_jobs.download_name(job))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register(app: Flask) -> None:
    """The blueprint, and (through export_jobs) the transcript_export job handler."""
    app.register_blueprint(bp)
