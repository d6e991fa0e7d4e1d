"""Administration: users and roles, partner universities, programs and terms."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select

from lms.admin.forms import PartnerForm, ProgramForm, StaffUserForm, TermForm, UserRoleForm
from lms.auth import services as accounts
from lms.auth.models import Role, User
from lms.auth.permissions import roles_required
from lms.catalog.models import PartnerUniversity, Program, Term
from lms.errors import attempt
from lms.extensions import db, login_manager
from lms.forms import options
from lms.loading import load_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")
admins = roles_required(Role.ADMIN)

ADMINS = (Role.ADMIN,)
REGISTRARS = (Role.REGISTRAR, Role.ADMIN)
# model, form, list columns, who may manage it, page title
REFERENCE = {
    "partners": (PartnerUniversity, PartnerForm, ["code", "name_en", "name_ja"], ADMINS,
                 _l("Partner universities")),
    "programs": (Program, ProgramForm, ["code", "name_en", "ja_credits_required", "uz_credits_required"],
                 REGISTRARS, _l("Programs")),
    "terms": (Term, TermForm, ["code", "name", "starts_on", "ends_on"], REGISTRARS, _l("Terms")),
}


def _reference(kind: str):
    if kind not in REFERENCE:
        abort(404)
    return REFERENCE[kind]


def _form(kind: str, obj=None):
    model, form_class, *_rest = _reference(kind)
    form = form_class(obj=obj)
    if hasattr(form, "partner_id"):
        form.partner_id.choices = options([(0, "—")] + [
            (p.id, p.name_en) for p in db.session.scalars(select(PartnerUniversity).order_by(PartnerUniversity.code))])
    return form


def _save(kind: str, form, obj):
    """Apply the form to a new or existing row; None when the code is taken."""
    model = _reference(kind)[0]
    clash = db.session.scalar(select(model.id).where(model.code == form.code.data))
    if clash and (obj is None or clash != obj.id):
        form.code.errors = [_("This code is already used.")]
        return None
    obj = obj or model()
    form.populate_obj(obj)
    if hasattr(obj, "partner_id"):
        obj.partner_id = obj.partner_id or None
    if hasattr(obj, "name_ja"):
        obj.name_ja = obj.name_ja or None
    if hasattr(obj, "ja_semester"):
        obj.ja_semester = obj.ja_semester or None
    db.session.add(obj)
    return obj


def _denied(kind: str):
    """Each kind has its own audience, so the role check cannot be a fixed decorator."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in _reference(kind)[3]:
        abort(403)
    return None


@bp.route("/<kind>")
def reference_list(kind: str):
    if denied := _denied(kind):
        return denied
    model, _form_class, columns, _who, title = _reference(kind)
    rows = db.session.scalars(select(model).order_by(model.code)).all()
    return render_template("admin/reference_list.html", kind=kind, rows=rows, columns=columns, title=title)


@bp.route("/<kind>/new", methods=["GET", "POST"])
@bp.route("/<kind>/<int:object_id>", methods=["GET", "POST"])
def reference_edit(kind: str, object_id: int | None = None):
    if denied := _denied(kind):
        return denied
    model, *_rest, title = _reference(kind)
    obj = load_or_404(model, object_id) if object_id else None
    form = _form(kind, obj)
    if form.validate_on_submit() and _save(kind, form, obj) is not None:
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("admin.reference_list", kind=kind))
    return render_template("admin/reference_form.html", kind=kind, form=form, obj=obj, title=title)


@bp.route("/users")
@admins
def users():
    query = select(User).order_by(User.role, User.name_latin)
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.email).like(like), func.lower(User.name_latin).like(like),
                                User.student_number.like(f"%{q}%")))
    rows = db.session.scalars(query.limit(500)).all()
    return render_template("admin/users.html", users=rows, q=q, form=StaffUserForm())


@bp.route("/users", methods=["POST"])
@admins
def create_staff_user():
    form = StaffUserForm()
    if form.validate_on_submit():
        created = attempt(lambda: accounts.create_user(email=form.email.data, name_latin=form.name_latin.data,
                                                       role=Role(form.role.data)))
        if created:
            return render_template("people/created.html", created=[created])
    else:
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admins
def user(user_id: int):
    user = load_or_404(User, user_id)
    form = UserRoleForm(obj=user)
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != Role.ADMIN:
            flash(_("You cannot take away your own administrator role."), "error")
        elif form.role.data == user.role:
            # Nothing changed: keep the user's sessions (an admin saving their own page stays in).
            flash(_("The role is unchanged."), "info")
            return redirect(url_for("admin.user", user_id=user.id))
        else:
            user.role = Role(form.role.data)
            accounts.end_sessions(user)
            db.session.commit()
            flash(_("Role changed; the user must log in again."), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user.html", user=user, form=form)


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@admins
def toggle_disabled(user_id: int):
    user = load_or_404(User, user_id)
    if user.id == current_user.id:
        flash(_("You cannot disable your own account."), "error")
    else:
        accounts.set_disabled(user, not user.disabled)
        db.session.commit()
        flash(_("Account disabled.") if user.disabled else _("Account enabled."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@admins
def reset_password(user_id: int):
    user = load_or_404(User, user_id)
    password = accounts.generate_initial_password()
    accounts.set_password(user, password, must_change=True)
    db.session.commit()
    return render_template("people/created.html", created=[(user, password)])

from lms.admin import health  # noqa: E402,F401  system health routes on this blueprint
