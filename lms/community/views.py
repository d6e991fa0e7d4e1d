"""Announcements: an offering's list (and the instructors' form), one announcement, pinning."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import joinedload

from lms import markdown
from lms.assignments.views import to_utc
from lms.catalog import permissions as catalog
from lms.catalog.models import Offering
from lms.community import permissions, services
from lms.community.forms import AnnouncementForm
from lms.community.models import Announcement, AnnouncementRead
from lms.db import UTCDateTime, prebuilt, utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.loading import load_or_404

bp = Blueprint("community", __name__)
COURSE_PAGE_LIMIT = 5
HOME_LIMIT = 8


def listing(offering_ids, *, scheduled_too: bool = False, limit: int | None = None):
    """(announcements, ids read by the current user): pinned first, then newest."""
    query = (permissions.visible_announcements(current_user, offering_ids, utcnow(), scheduled_too=scheduled_too)
             .options(joinedload(Announcement.offering).joinedload(Offering.course))
             .order_by(Announcement.pinned.desc(), Announcement.publish_at.desc(), Announcement.id.desc()))
    if limit:
        query = query.limit(limit)
    items = list(db.session.scalars(query))
    return items, services.read_ids(current_user, [a.id for a in items])


def course_announcements(offering: Offering):
    return listing([offering.id], scheduled_too=permissions.sees_scheduled(current_user, offering),
                   limit=COURSE_PAGE_LIMIT)


def home_announcements():
    """What is new to the reader: the newest unread announcements of their offerings, pinned first."""
    return list(db.session.scalars(_home_unread(catalog.oversees_all(current_user)),
                                   {"user_id": current_user.id, "now": utcnow()}))


@prebuilt
def _home_unread(oversees_all: bool):
    """One statement, built once (lms/db.py, prebuilt statements): the home page runs it on every visit."""
    user_id = bindparam("user_id")
    visible = catalog.offerings_visible_to(user_id, oversees_all).with_only_columns(Offering.id)
    read = exists().where(AnnouncementRead.announcement_id == Announcement.id, AnnouncementRead.user_id == user_id)
    return (select(Announcement)
            .where(Announcement.offering_id.in_(visible), Announcement.publish_at <= bindparam("now", type_=UTCDateTime()),
                   ~read)
            .options(joinedload(Announcement.offering).joinedload(Offering.course))
            .order_by(Announcement.pinned.desc(), Announcement.publish_at.desc(), Announcement.id.desc())
            .limit(HOME_LIMIT))


@bp.route("/offerings/<int:offering_id>/announcements", methods=["GET", "POST"])
@login_required
def offering_announcements(offering_id: int):
    offering = load_or_404(Offering, offering_id, catalog.can_view_offering)
    may_post = permissions.can_post_announcement(current_user, offering)
    form = AnnouncementForm()
    status = 200
    if form.is_submitted():
        if not may_post:
            abort(403)
        if form.validate():
            try:
                item = services.post(offering, current_user, form.title.data, form.body_md.data,
                                     publish_at=to_utc(form.publish_at.data, form.timezone.data),
                                     pinned=form.pinned.data)
            except DomainError as exc:
                db.session.rollback()
                if exc.status == 429:
                    return render_template("errors/error.html", status=429, title=_("Too many announcements"),
                                           text=exc.message), 429
                form.body_md.errors = [exc.message]
                status = 400
            else:
                db.session.commit()
                flash(_("Announcement scheduled.") if item.publish_at > utcnow() else
                      _("Announcement published; its students are being notified."), "success")
                return redirect(url_for("community.announcement", announcement_id=item.id))
        else:
            status = 400
    items, read = listing([offering.id], scheduled_too=permissions.sees_scheduled(current_user, offering))
    return render_template("community/announcements.html", offering=offering, items=items, read=read,
                           form=form if may_post else None, now=utcnow()), status


@bp.route("/announcements/<int:announcement_id>")
@login_required
def announcement(announcement_id: int):
    item = load_or_404(Announcement, announcement_id)
    if not permissions.can_view_announcement(current_user, item, utcnow()):
        abort(404 if catalog.can_view_offering(current_user, item.offering) else 403)
    if services.mark_read(item, current_user):
        db.session.commit()
    return render_template("community/announcement.html", item=item, offering=item.offering,
                           body=markdown.render(item.body_md), now=utcnow(),
                           may_pin=permissions.can_post_announcement(current_user, item.offering))


@bp.route("/announcements/<int:announcement_id>/pin", methods=["POST"])
@login_required
def pin(announcement_id: int):
    item = load_or_404(Announcement, announcement_id)
    if not permissions.can_post_announcement(current_user, item.offering):
        abort(403)
    services.set_pinned(item, not item.pinned)
    db.session.commit()
    flash(_("Pinned to the top.") if item.pinned else _("No longer pinned."), "success")
    return redirect(url_for("community.offering_announcements", offering_id=item.offering_id))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(course_announcements=course_announcements, home_announcements=home_announcements,
                                 can_post_announcement=permissions.can_post_announcement, now_utc=utcnow)
