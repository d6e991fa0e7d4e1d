"""Announcements: posting (validated, rate-limited, notifications queued for their publish time),
pinning, reading (the unread marks) and listing. Services flush; views commit."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.auth.models import User
from lms.catalog.models import Offering
from lms.community.models import Announcement, AnnouncementRead
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications import jobs as notification_jobs, services as notifications

TITLE_MAX = 200
BODY_MAX = 20_000  # characters of Markdown: a long announcement is about 5,000
PAST_SLACK = timedelta(minutes=5)  # a publish time this little in the past means "now"


class Flooding(DomainError):
    status = 429


def post(offering: Offering, author: User, title: str, body_md: str, *, publish_at: datetime | None = None,
         pinned: bool = False) -> Announcement:
    """Add an announcement; its students are notified at `publish_at` (now when None).

    Raises DomainError (empty, too long, a publish time in the past) and Flooding (the author posted
    LMS_ANNOUNCEMENTS_PER_HOUR in the last hour). Permission is the caller's check."""
    title, body_md = (title or "").strip(), (body_md or "").strip()
    now = utcnow()
    if not title or not body_md:
        raise DomainError(_("An announcement needs a title and a text."))
    if len(title) > TITLE_MAX:
        raise DomainError(_("The title is %(n)d characters long; the limit is %(limit)d.", n=len(title), limit=TITLE_MAX))
    if len(body_md) > BODY_MAX:
        raise DomainError(_("The text is %(n)d characters long; the limit is %(limit)d.", n=len(body_md), limit=BODY_MAX))
    if publish_at is not None and publish_at < now - PAST_SLACK:
        raise DomainError(_("The publish time is in the past. Leave it empty to publish now."))
    limit = int(current_app.config["ANNOUNCEMENTS_PER_HOUR"])
    recent = db.session.scalar(select(func.count()).select_from(Announcement).where(
        Announcement.author_id == author.id, Announcement.created_at > now - timedelta(hours=1)))
    if recent >= limit:
        raise Flooding(_("You posted %(n)d announcements in the last hour; please wait before posting more.", n=recent))
    publish_at = max(publish_at or now, now)
    item = Announcement(offering_id=offering.id, author_id=author.id, title=title, body_md=body_md,
                        publish_at=publish_at, pinned=pinned, created_at=now)
    db.session.add(item)
    db.session.flush()
    notification_jobs.record("announcement", run_after=publish_at, announcement_id=item.id)
    return item


def set_pinned(item: Announcement, pinned: bool) -> None:
    item.pinned = pinned
    db.session.flush()


def mark_read(item: Announcement, user: User) -> bool:
    """Record that `user` read it (and its notification); True when that is new (the caller commits)."""
    if db.session.get(AnnouncementRead, (item.id, user.id)) is not None:
        return False
    db.session.add(AnnouncementRead(announcement_id=item.id, user_id=user.id))
    notifications.mark_event_read(user.id, f"announcement:{item.id}")
    db.session.flush()
    return True


def read_ids(user: User, announcement_ids: list[int]) -> set[int]:
    if not announcement_ids:
        return set()
    return set(db.session.scalars(select(AnnouncementRead.announcement_id).where(
        AnnouncementRead.user_id == user.id, AnnouncementRead.announcement_id.in_(announcement_ids))))
