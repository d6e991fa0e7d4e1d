"""The bell's page (read and mark read), e-mail preferences, and unsubscribing from a mail's link."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth.models import User
from lms.auth.views import safe_next
from lms.extensions import csrf, db
from lms.notifications import jobs, mail, services  # noqa: F401  jobs registers the handlers
from lms.notifications.forms import preferences_form
from lms.notifications.kinds import KINDS, summary
from lms.notifications.models import Delivery, Notification

bp = Blueprint("notifications", __name__)


def _mine(notification_id: int) -> Notification:
    """Someone else's notification is a 404: its existence is not theirs to learn."""
    item = db.session.get(Notification, notification_id)
    if item is None or not current_user.is_authenticated or item.user_id != current_user.id:
        abort(404)
    return item


@bp.route("/notifications")
@login_required
def index():
    return render_template("notifications/index.html", items=services.recent(current_user.id), summary=summary)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_one(notification_id: int):
    item = _mine(notification_id)
    services.mark_read(item)
    db.session.commit()
    return redirect(safe_next(item.link) or url_for("notifications.index"))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    count = services.mark_all_read(current_user.id)
    db.session.commit()
    if count:
        flash(_("All notifications marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["POST"])
@login_required
def save_preferences():
    form = preferences_form(services.preferences_of(current_user.id))
    if not form.validate_on_submit():
        abort(400)
    for kind in KINDS:
        services.set_preference(current_user.id, kind, form[kind].data)
    db.session.commit()
    flash(_("Notification preferences saved."), "success")
    return redirect(url_for("auth.preferences"))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail apps POST here without a form (RFC 8058)
def unsubscribe(token: str):
    found = mail.read_unsubscribe_token(token)
    user = db.session.get(User, found[0]) if found else None
    if user is None or found[1] not in KINDS:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    kind = found[1]
    if request.method == "POST":
        services.set_preference(user.id, kind, Delivery.OFF.value)
        db.session.commit()
        return render_template("notifications/unsubscribe.html", done=True, label=KINDS[kind])
    return render_template("notifications/unsubscribe.html", label=KINDS[kind], token=token)


def unread_count() -> int:
    return services.unread_count(current_user.id) if current_user.is_authenticated else 0


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["notification_count"] = unread_count
