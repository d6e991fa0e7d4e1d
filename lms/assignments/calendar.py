"""Each student's deadlines as a private iCal feed (a token URL calendar apps can poll)."""
from __future__ import annotations

import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from icalendar import Calendar, Event
from sqlalchemy import select

from lms.assignments import services
from lms.assignments.models import Assignment, CalendarFeed
from lms.catalog.models import Enrollment
from lms.extensions import db

bp = Blueprint("calendar", __name__)
TZID = "Asia/Tashkent"


def feed_for(user_id: int, *, renew: bool = False) -> CalendarFeed:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user_id))
    if feed is None:
        feed = CalendarFeed(user_id=user_id)
        db.session.add(feed)
    if feed.token is None or renew:
        feed.token = secrets.token_urlsafe(32)
    db.session.flush()
    return feed


def build_calendar(user_id: int) -> bytes:
    zone = ZoneInfo(TZID)
    calendar = Calendar()
    calendar.add("prodid", "-//Kakehashi//JDU deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Kakehashi deadlines")
    calendar.add("x-wr-timezone", TZID)
    assignments = db.session.scalars(
        select(Assignment).join(Enrollment, Enrollment.offering_id == Assignment.offering_id)
        .where(Enrollment.student_id == user_id).order_by(Assignment.due_at)).all()
    for assignment in assignments:
        due_at, _cutoff, _extension = services.deadline_for(assignment, user_id)
        event = Event()
        event.add("uid", f"assignment-{assignment.id}@kakehashi")
        event.add("summary", f"{assignment.offering.course.code}: {assignment.title}")
        event.add("dtstart", due_at.astimezone(zone))  # with TZID, as calendar apps expect
        event.add("dtend", (due_at + timedelta(minutes=15)).astimezone(zone))
        event.add("dtstamp", assignment.updated_at)
        event.add("url", url_for("assignments.show", assignment_id=assignment.id, _external=True))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if row is None:
        abort(404)
    response = Response(build_calendar(row.user_id), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


@bp.route("/account/calendar", methods=["GET", "POST"])
@login_required
def settings():
    feed_row = feed_for(current_user.id, renew=request.method == "POST")
    db.session.commit()
    if request.method == "POST":
        flash(_("A new calendar address was made; the old one no longer works."), "success")
        return redirect(url_for("calendar.settings"))
    return render_template("assignments/calendar.html",
                           url=url_for("calendar.feed", token=feed_row.token, _external=True))
