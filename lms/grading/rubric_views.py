"""The rubric editor: an instructor's rubrics, created, edited while unused, and copied.

The editor works without JavaScript: it shows blank rows for new criteria and levels, blank rows
are ignored, and "More rows" re-renders the form with more of them without saving.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.errors import attempt
from lms.extensions import db
from lms.grading import permissions, rubrics
from lms.grading.forms import RubricForm
from lms.grading.models import Rubric
from lms.loading import load_or_404

bp = Blueprint("rubrics", __name__, url_prefix="/grading/rubrics")


def _author_required() -> None:
    if not permissions.can_author_rubrics(current_user):
        abort(403)


def _pad(form: RubricForm, criteria: int = 1) -> RubricForm:
    """Blank rows to fill in: `criteria` new criteria with four levels, one more level for the rest."""
    existing = len(form.criteria)
    for _i in range(min(criteria, form.criteria.max_entries - existing)):
        form.criteria.append_entry()
    for i, entry in enumerate(form.criteria):
        levels = entry.form.levels
        for _j in range(min(1 if i < existing else 4, levels.max_entries - len(levels))):
            levels.append_entry()
    return form


def _specs(form: RubricForm) -> list[rubrics.CriterionSpec] | None:
    """The criteria the form describes, or None after marking the rows that are incomplete."""
    specs, ok = [], True
    for entry in form.criteria:
        c = entry.form
        levels = []
        for level_entry in c.levels:
            lv = level_entry.form
            title, points = (lv.title.data or "").strip(), lv.points.data
            if not title and points is None:
                continue
            if not title:
                lv.title.errors = [*lv.title.errors, _("Name this level.")]
                ok = False
            elif points is None:
                lv.points.errors = [*lv.points.errors, _("Give this level its points.")]
                ok = False
            else:
                levels.append(rubrics.LevelSpec(title, points, lv.description.data or ""))
        title = (c.title.data or "").strip()
        if not title and not levels:
            continue
        if not title:
            c.title.errors = [*c.title.errors, _("Name this criterion.")]
            ok = False
        specs.append(rubrics.CriterionSpec(title, c.description.data or "", levels))
    return specs if ok else None


def _editor(form: RubricForm, rubric: Rubric | None, status: int = 200):
    return render_template("grading/rubric_form.html", form=form, rubric=rubric,
                           in_use=rubric is not None and rubrics.rubric_in_use(rubric)), status


def _save(form: RubricForm, rubric: Rubric | None):
    if "more" in request.form:
        return _editor(_pad(form), rubric)
    specs = _specs(form) if form.validate_on_submit() else None
    if specs is None:
        return _editor(form, rubric, 400)
    if rubric is None:
        saved = attempt(lambda: rubrics.create_rubric(current_user, form.title.data,
                                                      form.description.data or "", specs))
    else:
        saved = attempt(lambda: rubrics.update_rubric(rubric, current_user, form.title.data,
                                                      form.description.data or "", specs))
    if saved is None:
        return _editor(form, rubric, 400)
    flash(_("Rubric saved."), "success")
    return redirect(url_for("rubrics.edit", rubric_id=saved.id))


@bp.route("")
@login_required
def index():
    _author_required()
    own = db.session.scalars(permissions.visible_rubrics(current_user)).all()
    return render_template("grading/rubrics.html", rubrics=own)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _author_required()
    form = RubricForm()
    if request.method == "GET":
        return _editor(_pad(form, criteria=3), None)
    return _save(form, None)


@bp.route("/<int:rubric_id>", methods=["GET", "POST"])
@login_required
def edit(rubric_id: int):
    rubric = load_or_404(Rubric, rubric_id, permissions.can_use_rubric)
    if request.method == "POST":
        if not permissions.can_edit_rubric(current_user, rubric):
            abort(403)
        return _save(RubricForm(), rubric)
    data = {"title": rubric.title, "description": rubric.description, "criteria": [
        {"title": c.title, "description": c.description,
         "levels": [{"title": lv.title, "points": lv.points, "description": lv.description} for lv in c.levels]}
        for c in rubric.criteria]}
    form = RubricForm(data=data)
    if permissions.can_edit_rubric(current_user, rubric) and not rubrics.rubric_in_use(rubric):
        _pad(form)
    return _editor(form, rubric)


@bp.route("/<int:rubric_id>/copy", methods=["POST"])
@login_required
def copy(rubric_id: int):
    rubric = load_or_404(Rubric, rubric_id, permissions.can_use_rubric)
    _author_required()
    copied = attempt(lambda: rubrics.copy_rubric(rubric, current_user))
    if copied is None:
        return redirect(url_for("rubrics.edit", rubric_id=rubric.id))
    flash(_("Copied. You are editing the copy."), "success")
    return redirect(url_for("rubrics.edit", rubric_id=copied.id))
