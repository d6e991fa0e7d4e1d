"""Who is logged in: the user loader, and the first-login password change gate."""
from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select

from lms.auth.models import User
from lms.extensions import db, login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


# Run on every request: built once (lms/db.py, prebuilt statements).
_BY_SESSION_TOKEN = select(User).where(User.session_token == bindparam("token"))


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # Looked up on every request, so a logout elsewhere or a disabled account counts at once.
    user = db.session.scalar(_BY_SESSION_TOKEN, {"token": session_token})
    if user is None or not user.is_active:
        return None
    return user


OPEN_ENDPOINTS = {"auth.login", "auth.logout", "auth.change_password", "static"}


def register_session_hooks(app: Flask) -> None:
    @app.before_request
    def require_new_password():
        if (current_user.is_authenticated and current_user.must_change_password
                and request.endpoint not in OPEN_ENDPOINTS):
            return redirect(url_for("auth.change_password"))
        return None
