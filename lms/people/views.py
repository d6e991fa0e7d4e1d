"""Registrar work: students (one by one and by cohort CSV), offerings, staff and enrollment."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import Role, User
from lms.auth.permissions import roles_required
from lms.auth.services import create_user
from lms.catalog import services as catalog
from lms.catalog.forms import EnrollForm, OfferingForm, StaffForm
from lms.catalog.models import Course, Enrollment, Offering, OfferingStaff, Program, StaffRole, Term
from lms.errors import attempt
from lms.extensions import db
from lms.forms import options
from lms.loading import load_or_404
from lms.people import csv_import
from lms.people.forms import CsvUploadForm, StudentForm

bp = Blueprint("people", __name__, url_prefix="/registrar")
registrars = roles_required(Role.REGISTRAR, Role.ADMIN)


@bp.route("/students")
@registrars
def students():
    query = select(User).where(User.role == Role.STUDENT).options(selectinload(User.program))
    program = request.args.get("program", type=int)
    cohort = request.args.get("cohort", type=int)
    if program:
        query = query.where(User.program_id == program)
    if cohort:
        query = query.where(User.cohort_year == cohort)
    rows = db.session.scalars(query.order_by(User.student_number)).all()
    programs = db.session.scalars(select(Program).order_by(Program.code)).all()
    return render_template("people/students.html", students=rows, programs=programs,
                           program=program, cohort=cohort)


@bp.route("/students/new", methods=["GET", "POST"])
@registrars
def new_student():
    form = StudentForm()
    form.program_id.choices = options((p.id, f"{p.code} — {p.name_en}")
                               for p in db.session.scalars(select(Program).order_by(Program.code)))
    if form.validate_on_submit():
        created = attempt(lambda: create_user(
            email=form.email.data, name_latin=form.name_latin.data, name_kana=form.name_kana.data,
            role=Role.STUDENT, student_number=form.student_number.data,
            program_id=form.program_id.data, cohort_year=form.cohort_year.data))
        if created:
            return render_template("people/created.html", created=[created])
    return render_template("people/student_form.html", form=form)


@bp.route("/students/import", methods=["GET", "POST"])
@registrars
def import_students():
    form = CsvUploadForm()
    errors = []
    if form.validate_on_submit():
        try:
            created = csv_import.import_students(form.file.data.read(), current_app.config["CSV_MAX_ROWS"])
        except csv_import.CsvRejected as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            return render_template("people/created.html", created=created)
    status = 400 if errors or form.errors else 200
    return render_template("people/import_students.html", form=form, errors=errors,
                           columns=csv_import.STUDENT_COLUMNS), status


@bp.route("/offerings", methods=["GET", "POST"])
@registrars
def offerings():
    form = OfferingForm()
    form.course_id.choices = options((c.id, f"{c.code} — {c.title_en}")
                              for c in db.session.scalars(select(Course).order_by(Course.code)))
    form.term_id.choices = options((t.id, t.name) for t in db.session.scalars(select(Term).order_by(Term.starts_on.desc())))
    if form.validate_on_submit():
        offering = attempt(lambda: catalog.create_offering(db.session.get(Course, form.course_id.data),
                                                           form.term_id.data))
        if offering:
            flash(_("Offering created."), "success")
            return redirect(url_for("people.offering", offering_id=offering.id))
    rows = db.session.scalars(select(Offering).join(Term).join(Course)
                              .options(selectinload(Offering.course), selectinload(Offering.term))
                              .order_by(Term.starts_on.desc(), Course.code)).all()
    return render_template("people/offerings.html", offerings=rows, form=form)


def _offering_page(offering: Offering, status: int = 200, csv_errors=None):
    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.offering_id == offering.id)
        .options(selectinload(Enrollment.student)).join(User).order_by(User.student_number)).all()
    staff = db.session.scalars(select(OfferingStaff).where(OfferingStaff.offering_id == offering.id)
                               .options(selectinload(OfferingStaff.user))).all()
    return render_template("people/offering.html", offering=offering, enrollments=enrollments,
                           staff=staff, staff_form=StaffForm(prefix="staff"),
                           enroll_form=EnrollForm(prefix="enroll"), csv_form=CsvUploadForm(prefix="csv"),
                           csv_errors=csv_errors or []), status


@bp.route("/offerings/<int:offering_id>")
@registrars
def offering(offering_id: int):
    return _offering_page(load_or_404(Offering, offering_id))


@bp.route("/offerings/<int:offering_id>/staff", methods=["POST"])
@registrars
def add_staff(offering_id: int):
    offering = load_or_404(Offering, offering_id)
    form = StaffForm(prefix="staff")
    if form.validate_on_submit():
        user = csv_import.find_student(form.email.data)
        if user is None:
            flash(_("No user with the email %(email)s.", email=form.email.data), "error")
        elif attempt(lambda: catalog.add_staff(offering, user, StaffRole(form.role.data))):
            flash(_("%(name)s added to the staff.", name=user.name_latin), "success")
    return redirect(url_for("people.offering", offering_id=offering.id))


@bp.route("/offerings/<int:offering_id>/staff/<int:staff_id>/remove", methods=["POST"])
@registrars
def remove_staff(offering_id: int, staff_id: int):
    staff = load_or_404(OfferingStaff, staff_id)
    if staff.offering_id != offering_id:
        return redirect(url_for("people.offering", offering_id=offering_id))
    db.session.delete(staff)
    db.session.commit()
    flash(_("Removed from the staff."), "success")
    return redirect(url_for("people.offering", offering_id=offering_id))


@bp.route("/offerings/<int:offering_id>/enroll", methods=["POST"])
@registrars
def enroll(offering_id: int):
    offering = load_or_404(Offering, offering_id)
    form = EnrollForm(prefix="enroll")
    if form.validate_on_submit():
        student = csv_import.find_student(form.student.data)
        if student is None:
            flash(_("No student with the number or email %(s)s.", s=form.student.data), "error")
        elif attempt(lambda: catalog.enroll(offering, student)):
            flash(_("%(name)s enrolled.", name=student.name_latin), "success")
    return redirect(url_for("people.offering", offering_id=offering.id))


@bp.route("/offerings/<int:offering_id>/enroll-csv", methods=["POST"])
@registrars
def enroll_csv(offering_id: int):
    offering = load_or_404(Offering, offering_id)
    form = CsvUploadForm(prefix="csv")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("people.offering", offering_id=offering.id))
    try:
        count = csv_import.import_enrollments(offering, form.file.data.read(), current_app.config["CSV_MAX_ROWS"])
    except csv_import.CsvRejected as exc:
        db.session.rollback()
        return _offering_page(offering, 400, exc.errors)
    db.session.commit()
    flash(_("%(n)d students enrolled.", n=count), "success")
    return redirect(url_for("people.offering", offering_id=offering.id))


@bp.route("/offerings/<int:offering_id>/enrollments/<int:enrollment_id>/remove", methods=["POST"])
@registrars
def unenroll(offering_id: int, enrollment_id: int):
    enrollment = load_or_404(Enrollment, enrollment_id)
    if enrollment.offering_id == offering_id:
        catalog.unenroll(enrollment)
        db.session.commit()
        flash(_("Enrollment removed."), "success")
    return redirect(url_for("people.offering", offering_id=offering_id))
