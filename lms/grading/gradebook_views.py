"""The gradebook page, its CSV export, bulk release and extensions, and CSV import of scores."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.filenames import content_disposition
from lms.assignments.models import Assignment
from lms.catalog.models import Offering
from lms.errors import attempt
from lms.extensions import db
from lms.forms import options
from lms.grading import gradebook, permissions
from lms.grading.gradebook_table import student_rows
from lms.grading.forms import ConfirmImportForm, ExtendForm, ImportForm
from lms.i18n import select_timezone
from lms.loading import load_or_404
from lms.people.csv_import import CsvRejected

bp = Blueprint("gradebook", __name__, url_prefix="/grading")


def _extend_form(offering: Offering, assignments: list[Assignment]) -> ExtendForm:
    form = ExtendForm(prefix="extend")
    form.assignment_id.choices = options((a.id, a.title) for a in assignments)
    return form


def _render(offering: Offering, status: int = 200, extend_form: ExtendForm | None = None,
            weights: dict[int, str] | None = None, ticked: set[int] | None = None):
    book = gradebook.build(offering)
    categories = book.categories
    # Each cell links to grading one student: built from one URL per assignment (url_for for every
    # cell was a third of the page's time for 600 students).
    grade_urls = [url_for("grading.grade", assignment_id=a.id, student_id=0).rsplit("/", 1)[0] + "/"
                  for a in book.assignments]
    return render_template("grading/gradebook.html", offering=offering, book=book, categories=categories,
                           grade_urls=grade_urls, student_rows=student_rows,
                           weights=weights or {c.id: str(c.weight) for c in categories},
                           extend_form=extend_form or _extend_form(offering, book.assignments), ticked=ticked or set(),
                           can_manage=permissions.can_manage_offering(current_user, offering),
                           can_grade=permissions.can_grade_offering(current_user, offering)), status


@bp.route("/offerings/<int:offering_id>/gradebook")
@login_required
def page(offering_id: int):
    return _render(load_or_404(Offering, offering_id, permissions.can_view_gradebook))


@bp.route("/offerings/<int:offering_id>/weights", methods=["POST"])
@login_required
def weights(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_manage_offering)
    typed = {int(k[7:]): v for k, v in request.form.items() if k.startswith("weight-") and k[7:].isdecimal()}
    if attempt(lambda: gradebook.set_weights(offering, current_user, typed) or True) is None:
        return _render(offering, 400, weights=typed)
    flash(_("Category weights saved."), "success")
    return redirect(url_for("gradebook.page", offering_id=offering.id))


@bp.route("/offerings/<int:offering_id>/gradebook.csv")
@login_required
def export(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_view_gradebook)
    body = gradebook.export_csv(gradebook.build(offering))
    name = f"gradebook-{offering.course.code}-{offering.term.code}.csv"
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/offerings/<int:offering_id>/release", methods=["POST"])
@login_required
def release(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_manage_offering)
    ids = [int(v) for v in request.form.getlist("assignment") if v.isdecimal()]
    count = attempt(lambda: gradebook.bulk_release(offering, ids, current_user))
    if count == 0:
        flash(_("Choose assignments whose grades are not released yet."), "error")
    elif count:
        flash(_("Grades released for %(n)d assignment(s).", n=count), "success")
    return redirect(url_for("gradebook.page", offering_id=offering.id))


def _utc(local: datetime | None) -> datetime | None:
    """A date and time typed in the app's time zone, as UTC."""
    return None if local is None else local.replace(tzinfo=ZoneInfo(select_timezone())).astimezone(UTC)


@bp.route("/offerings/<int:offering_id>/extend", methods=["POST"])
@login_required
def extend(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_manage_offering)
    assignments = db.session.scalars(select(Assignment).where(Assignment.offering_id == offering.id)).all()
    form = _extend_form(offering, assignments)
    ids = [int(v) for v in request.form.getlist("student") if v.isdecimal()]
    if not form.validate_on_submit():
        return _render(offering, 400, extend_form=form, ticked=set(ids))
    assignment = db.session.get(Assignment, form.assignment_id.data)
    count = attempt(lambda: gradebook.bulk_extend(assignment, ids, _utc(form.due_at.data), _utc(form.cutoff_at.data),
                                                  form.reason.data, current_user))
    if count is None:
        return _render(offering, 400, extend_form=form, ticked=set(ids))
    flash(_("Extension granted to %(n)d student(s) for “%(t)s”.", n=count, t=assignment.title), "success")
    return redirect(url_for("gradebook.page", offering_id=offering.id))


def _import_page(assignment: Assignment, form=None, preview=None, errors=None, confirm=None, status=200):
    return render_template("grading/import.html", assignment=assignment, form=form or ImportForm(),
                           preview=preview, errors=errors or [], confirm=confirm,
                           columns=gradebook.IMPORT_COLUMNS), status


@bp.route("/assignments/<int:assignment_id>/import", methods=["GET", "POST"])
@login_required
def import_scores(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_grade)
    form = ImportForm()
    if request.method == "GET":
        return _import_page(assignment, form)
    if not form.validate_on_submit():
        return _import_page(assignment, form, status=400)
    data = form.file.data.read()
    try:
        preview = gradebook.preview_import(assignment, data, current_app.config["CSV_MAX_ROWS"])
    except CsvRejected as exc:
        return _import_page(assignment, form, errors=exc.errors, status=400)
    if preview.errors:
        return _import_page(assignment, form, preview, preview.errors, status=400)
    confirm = ConfirmImportForm(csv_text=data.decode("utf-8-sig"), reason=form.reason.data or "")
    return _import_page(assignment, form, preview, confirm=confirm)


@bp.route("/assignments/<int:assignment_id>/import/apply", methods=["POST"])
@login_required
def apply_import(assignment_id: int):
    assignment = load_or_404(Assignment, assignment_id, permissions.can_grade)
    confirm = ConfirmImportForm()
    if not confirm.validate_on_submit():
        abort(400)
    try:
        count = gradebook.apply_import(assignment, current_user, confirm.csv_text.data.encode("utf-8"),
                                       current_app.config["CSV_MAX_ROWS"], confirm.reason.data or "")
    except CsvRejected as exc:
        db.session.rollback()
        return _import_page(assignment, errors=exc.errors, status=400)
    db.session.commit()
    flash(_("%(n)d grade(s) changed by the import.", n=count), "success")
    return redirect(url_for("grading.assignment", assignment_id=assignment.id))
