"""Pages of the academic record: a student's own record, a registrar's view of any record and of a
cohort, submitting, reviewing, finalizing and amending an offering's results, partner imports."""
from __future__ import annotations

import base64
import binascii
from itertools import groupby

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import Role, User
from lms.auth.permissions import roles_required
from lms.catalog.models import Offering, Program
from lms.errors import attempt
from lms.extensions import db
from lms.grading.gradebook import course_scores
from lms.loading import load_or_404
from lms.people.csv_import import CsvRejected
from lms.people.forms import CsvUploadForm
from lms.records import cohort as cohorts
from lms.records import partner_import, permissions, services
from lms.records.forms import AmendForm, ApproveImportForm, RecognisedCreditForm
from lms.records.models import FinalResult, ResultAmendment
from lms.records.record import compute_totals, effective_raw, student_record
from lms.records.versions import current_scheme, scheme_value

bp = Blueprint("records", __name__, url_prefix="/records")
registrars = roles_required(Role.REGISTRAR, Role.ADMIN)


def term_groups(record) -> list[tuple[tuple, list, object]]:
    """Lines grouped by term (with both calendars), each group with its own totals."""
    key = lambda x: (x.ja_year, x.ja_semester, x.uz_year, x.uz_semester, x.term_name)  # noqa: E731
    return [(k, lines, compute_totals(lines))
            for k, group in groupby(sorted(record.lines, key=key), key=key) for lines in [list(group)]]


def _amendments(record) -> tuple[dict[int, list[ResultAmendment]], dict[int, User]]:
    """Result id → its amendments, oldest first; and the users who made them."""
    ids = [x.result_id for x in record.lines if x.result_id]
    out: dict[int, list[ResultAmendment]] = {}
    for row in db.session.scalars(select(ResultAmendment).where(ResultAmendment.result_id.in_(ids or [0]))
                                  .order_by(ResultAmendment.at, ResultAmendment.id)):
        out.setdefault(row.result_id, []).append(row)
    actors = {a.actor_id for rows in out.values() for a in rows}
    return out, {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actors or [0])))}


@bp.route("/me")
@roles_required(Role.STUDENT)
def me():
    record = student_record(current_user.id, finalized_only=True)
    pending = db.session.scalar(select(db.func.count()).select_from(FinalResult).where(
        FinalResult.student_id == current_user.id, FinalResult.state != "finalized"))
    return render_template("records/me.html", student=current_user, record=record, groups=term_groups(record),
                           pending=pending)


@bp.route("/students/<int:student_id>")
@login_required
def student(student_id: int):
    student = load_or_404(User, student_id, permissions.can_view_record)
    if not permissions.can_manage_records(current_user):
        return redirect(url_for("records.me"))
    record = student_record(student.id)
    amendments, actors = _amendments(record)
    return render_template("records/student.html", student=student, record=record, groups=term_groups(record),
                           amendments=amendments, actors=actors, recognise_form=RecognisedCreditForm())


@bp.route("/students/<int:student_id>/recognised", methods=["POST"])
@login_required
def recognise(student_id: int):
    student = load_or_404(User, student_id, permissions.can_view_record)
    if not permissions.can_manage_records(current_user):
        abort(403)
    form = RecognisedCreditForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    elif attempt(lambda: services.recognise_credits(student, form.title.data, form.institution.data,
                                                     form.ja_credits.data, current_user)):
        flash(_("Recognised credits recorded."), "success")
    return redirect(url_for("records.student", student_id=student.id))


@bp.route("/cohorts")
@registrars
def cohort_view():
    programs = db.session.scalars(select(Program).order_by(Program.code)).all()
    years = sorted({y for y in db.session.scalars(select(User.cohort_year).where(
        User.role == Role.STUDENT, User.cohort_year.is_not(None)).distinct())}, reverse=True)
    program = db.session.get(Program, request.args.get("program", type=int) or 0)
    year = request.args.get("year", type=int)
    sort = request.args.get("sort", "number")
    behind = request.args.get("behind") == "1"
    rows = cohorts.cohort(program, year, sort=sort, behind_only=behind) if program and year else None
    return render_template("records/cohort.html", programs=programs, years=years, program=program, year=year,
                           sort=sort, behind=behind, rows=rows, sort_keys=cohorts.SORT_KEYS)


# --- workflow --------------------------------------------------------------------------------------

@bp.route("/offerings/<int:offering_id>/submit", methods=["GET", "POST"])
@login_required
def submit(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_submit_results)
    scores = course_scores(offering)
    excluded = {int(x) for x in request.form.getlist("exclude") if x.isdecimal()}
    if request.method == "POST":
        done = attempt(lambda: services.submit_offering(offering, scores, current_user.id, excluded))
        if done is not None:
            flash(_("%(n)d results submitted to the registrar.", n=len(done)), "success")
            return redirect(url_for("records.submit", offering_id=offering.id))
    students = services.enrolled_students(offering.id)
    return render_template("records/submit.html", offering=offering, students=students, scores=scores,
                           results=services.offering_results(offering.id), excluded=excluded,
                           missing=[s for s in students if scores.get(s.id) is None]), \
        400 if request.method == "POST" else 200


@bp.route("/offerings/<int:offering_id>")
@login_required
def offering(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_review_offering)
    results = db.session.scalars(
        select(FinalResult).where(FinalResult.offering_id == offering.id)
        .options(selectinload(FinalResult.student), selectinload(FinalResult.amendments),
                 selectinload(FinalResult.ja_scheme), selectinload(FinalResult.credit_rule))).all()
    results = sorted(results, key=lambda r: r.student.student_number or "")
    scheme = current_scheme(offering.course.partner_id)
    letters = {r.id: scheme_value(r.ja_scheme or scheme).letter(effective_raw(r)) for r in results}
    enrolled = services.enrolled_students(offering.id)
    return render_template("records/offering.html", offering=offering, results=results, letters=letters,
                           scheme=scheme, effective_raw=effective_raw,
                           unsubmitted=[s for s in enrolled if s.id not in {r.student_id for r in results}])


@bp.route("/offerings/<int:offering_id>/finalize", methods=["POST"])
@login_required
def finalize(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_review_offering)
    done = attempt(lambda: services.finalize_offering(offering, current_user.id))
    if done is not None:
        flash(_("%(n)d results finalized.", n=len(done)), "success")
    return redirect(url_for("records.offering", offering_id=offering.id))


@bp.route("/results/<int:result_id>/amend", methods=["GET", "POST"])
@login_required
def amend(result_id: int):
    result = load_or_404(FinalResult, result_id, permissions.can_amend)
    form = AmendForm()
    if form.validate_on_submit():
        done = attempt(lambda: services.amend_result(result, form.new_raw.data, form.reason.data, current_user.id))
        if done is not None:
            flash(_("Amendment recorded."), "success")
            return redirect(url_for("records.offering", offering_id=result.offering_id))
    status = 400 if request.method == "POST" else 200
    return render_template("records/amend.html", result=result, form=form, current=effective_raw(result)), status


# --- partner grade import ---------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@registrars
def partner_grades():
    form, errors, rows, approve = CsvUploadForm(), [], None, None
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            rows = partner_import.check(data, current_app.config["CSV_MAX_ROWS"])
        except CsvRejected as exc:
            errors = exc.errors
        else:
            approve = ApproveImportForm(formdata=None, payload=base64.b64encode(data).decode())
    status = 400 if errors or form.errors else 200
    return render_template("records/import.html", form=form, errors=errors, rows=rows, approve=approve,
                           columns=partner_import.COLUMNS, optional_columns=partner_import.OPTIONAL_COLUMNS), status


@bp.route("/import/approve", methods=["POST"])
@registrars
def approve_partner_grades():
    form = ApproveImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = base64.b64decode(form.payload.data, validate=True)
        results = partner_import.approve(data, current_app.config["CSV_MAX_ROWS"], current_user.id)
    except binascii.Error:
        abort(400)
    except CsvRejected as exc:  # something changed since the preview
        db.session.rollback()
        return render_template("records/import.html", form=CsvUploadForm(), errors=exc.errors, rows=None,
                               approve=None, columns=partner_import.COLUMNS,
                               optional_columns=partner_import.OPTIONAL_COLUMNS), 400
    db.session.commit()
    flash(_("%(n)d partner results submitted; finalize them on each offering's page.", n=len(results)), "success")
    return redirect(url_for("records.partner_grades"))


def result_state_label(state) -> str:
    """A result's state in the reader's language (the stored value is for the database)."""
    labels = {"in_progress": _("in progress"), "submitted": _("submitted by the instructor"),
              "finalized": _("finalized")}
    return labels.get(str(state), str(state))


def register(app: Flask) -> None:
    from lms.records import scheme_views

    app.register_blueprint(bp)
    app.register_blueprint(scheme_views.bp)
    app.jinja_env.filters["result_state"] = result_state_label
    app.jinja_env.globals.update(
        has_endpoint=lambda name: name in current_app.view_functions,
        can_submit_results=lambda offering: permissions.can_submit_results(current_user, offering),
        can_manage_records=lambda: permissions.can_manage_records(current_user))
