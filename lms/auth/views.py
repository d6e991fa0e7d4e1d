"""Login, logout, password change and personal preferences."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.auth import devices, services
from lms.auth.forms import ChangePasswordForm, LoginForm, PreferencesForm
from lms.extensions import db

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: '/x' yes; '//evil', 'https://evil', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data,
                                         request.remote_addr or "unknown", request.cookies.get(devices.COOKIE))
        except services.LoginRefused as exc:
            db.session.commit()  # keep the failure counters
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), 401
        db.session.commit()
        chosen = session.get("locale")
        session.clear()  # no session fixation: a pre-login session id never becomes a logged-in one
        if chosen:  # the language picked on the login page stays until the account has its own
            session["locale"] = chosen
        login_user(user)
        response = redirect(safe_next(request.args.get("next")) or url_for("catalog.home"))
        devices.set_cookie(response, devices.remember(request.cookies.get(devices.COOKIE), user.id))
        return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        services.end_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    """The header's language switcher: saved on the account, or in the session before login."""
    choice = request.form.get("locale", "")
    if choice not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = choice
        db.session.commit()
    else:
        session["locale"] = choice
    return redirect(safe_next(request.form.get("next")) or url_for("catalog.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.new.data)
        except (services.WeakPassword, services.LoginRefused) as exc:
            db.session.rollback()
            form.new.errors = [exc.message] if isinstance(exc, services.WeakPassword) else []
            form.current.errors = [exc.message] if isinstance(exc, services.LoginRefused) else []
            return render_template("auth/change_password.html", form=form), 400
        db.session.commit()
        login_user(current_user._get_current_object())  # the session token rotated with the password
        flash(_("Your password was changed."), "success")
        return redirect(url_for("catalog.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(locale=current_user.locale or "")
    if form.validate_on_submit():
        current_user.locale = form.locale.data or None
        db.session.commit()
        flash(_("Preferences saved."), "success")
        return redirect(url_for("auth.preferences"))
    from lms.notifications import forms as notification_forms, services as notifications

    notify_form = notification_forms.preferences_form(notifications.preferences_of(current_user.id), formdata=None)
    return render_template("auth/preferences.html", form=form, notify_form=notify_form)
