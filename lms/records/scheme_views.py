"""Registrar pages for grade schemes and credit rules: every version listed, new versions only."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.auth.models import Role
from lms.auth.permissions import roles_required
from lms.catalog.models import PartnerUniversity, Program
from lms.errors import attempt
from lms.extensions import db
from lms.loading import load_or_404
from lms.records import derive, services
from lms.records.forms import RuleForm, SchemeForm
from lms.records.models import CreditRule, JapaneseGradeScheme
from lms.records.versions import current_rule, current_scheme

bp = Blueprint("record_schemes", __name__, url_prefix="/records/schemes")
registrars = roles_required(Role.REGISTRAR, Role.ADMIN)


@bp.route("")
@registrars
def index():
    partners = db.session.scalars(select(PartnerUniversity).order_by(PartnerUniversity.code)).all()
    programs = db.session.scalars(select(Program).order_by(Program.code)).all()
    schemes, rules = {}, {}
    for row in db.session.scalars(select(JapaneseGradeScheme).order_by(JapaneseGradeScheme.version.desc())):
        schemes.setdefault(row.partner_id, []).append(row)
    for row in db.session.scalars(select(CreditRule).order_by(CreditRule.version.desc())):
        rules.setdefault(row.program_id, []).append(row)
    return render_template("records/schemes.html", partners=partners, programs=programs, schemes=schemes,
                           rules=rules)


@bp.route("/partners/<int:partner_id>/new", methods=["GET", "POST"])
@registrars
def new_scheme(partner_id: int):
    partner = load_or_404(PartnerUniversity, partner_id)
    form = SchemeForm()
    latest = current_scheme(partner.id)
    if request.method == "GET" and latest is not None:
        form.name.data = latest.name
        form.bands.data = "\n".join(f"{low} {letter}" for low, letter in latest.bands)
        form.points.data = "\n".join(f"{letter} {points}" for letter, points in latest.points.items())
        form.passing.data = " ".join(latest.passing)
    elif request.method == "GET":
        form.name.data, form.passing.data = "Standard 4-point", "S A B C"
        form.bands.data, form.points.data = "90 S\n80 A\n70 B\n60 C\n0 F", "S 4\nA 3\nB 2\nC 1\nF 0"
    if form.validate_on_submit():
        row = attempt(lambda: services.new_scheme_version(partner.id, services.parse_scheme(
            form.name.data, form.bands.data, form.points.data, form.passing.data), current_user.id))
        if row is not None:
            flash(_("Version %(v)d of the scheme saved; results finalized before keep theirs.", v=row.version),
                  "success")
            return redirect(url_for("record_schemes.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("records/scheme_form.html", form=form, owner=partner, latest=latest,
                           kind="scheme"), status


@bp.route("/programs/<int:program_id>/new", methods=["GET", "POST"])
@registrars
def new_rule(program_id: int):
    program = load_or_404(Program, program_id)
    form = RuleForm()
    latest = current_rule(program.id)
    if request.method == "GET":
        source = latest or derive.BY_WORKLOAD
        form.name.data, form.factor.data, form.step.data = source.name, source.factor, source.step
        form.mode.data, form.source.data = source.mode, source.source
        form.recognised_counts.data = "no" if source.recognised_factor is None else "yes"
        form.recognised_factor.data = source.recognised_factor if source.recognised_factor is not None else source.factor
    if form.validate_on_submit():
        counts = form.recognised_counts.data == "yes"
        row = attempt(lambda: services.new_rule_version(
            program.id, name=form.name.data, factor=form.factor.data, step=form.step.data, mode=form.mode.data,
            source=form.source.data, actor_id=current_user.id,
            recognised_factor=(form.recognised_factor.data if form.recognised_factor.data is not None
                               else form.factor.data) if counts else None))
        if row is not None:
            flash(_("Version %(v)d of the rule saved; results finalized before keep theirs.", v=row.version),
                  "success")
            return redirect(url_for("record_schemes.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("records/scheme_form.html", form=form, owner=program, latest=latest,
                           kind="rule"), status
