"""Recording notifications (many at once), reading them, marking them read, and preferences.

Services flush; the view or job step that calls them commits.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update

from lms.db import utcnow
from lms.extensions import db
from lms.notifications.kinds import KINDS
from lms.notifications.models import Delivery, MailState, Notification, NotificationPreference

PAGE_SIZE = 50
INSERT_BATCH = 500  # rows per INSERT: PostgreSQL and SQLite both take this many parameters at once


def deliveries(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """Each user's choice for `kind` (immediately unless they chose otherwise), in one query."""
    ids = list(user_ids)
    chosen = dict(db.session.execute(select(NotificationPreference.user_id, NotificationPreference.delivery)
                                     .where(NotificationPreference.kind == kind,
                                            NotificationPreference.user_id.in_(ids))).all()) if ids else {}
    return {user_id: chosen.get(user_id, Delivery.IMMEDIATELY.value) for user_id in ids}


def _mail_state(delivery: str) -> str:
    if not current_app.config.get("SMTP_HOST") or delivery == Delivery.OFF:
        return MailState.NONE.value
    return MailState.DIGEST.value if delivery == Delivery.DIGEST else MailState.PENDING.value


def notify(user_ids: Iterable[int], kind: str, event_key: str, params: dict, link: str) -> int:
    """Add one notification per user for one event, skipping users who already have it (a job that
    runs again). Returns how many were added. Bulk inserts: an announcement reaches 600 students."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return 0
    have = set(db.session.scalars(select(Notification.user_id).where(
        Notification.event_key == event_key, Notification.user_id.in_(wanted))))
    fresh = [user_id for user_id in wanted if user_id not in have]
    choice = deliveries(fresh, kind)
    now = utcnow()
    rows = [{"user_id": user_id, "kind": kind, "event_key": event_key, "params": params, "link": link,
             "created_at": now, "mail_state": _mail_state(choice[user_id])} for user_id in fresh]
    for start in range(0, len(rows), INSERT_BATCH):
        db.session.execute(insert(Notification), rows[start:start + INSERT_BATCH])
    db.session.flush()
    return len(rows)


# The header's bell asks on every page: built once (lms/db.py, prebuilt statements).
_UNREAD = select(func.count()).select_from(Notification).where(
    Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))


def unread_count(user_id: int) -> int:
    return db.session.scalar(_UNREAD, {"user_id": user_id}) or 0


def recent(user_id: int, limit: int = PAGE_SIZE) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit)))


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount


def mark_event_read(user_id: int, event_key: str) -> None:
    """The reader opened what the notification points at (an announcement): it is read too."""
    db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.event_key == event_key, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))


def preferences_of(user_id: int) -> dict[str, str]:
    chosen = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.delivery)
                                     .where(NotificationPreference.user_id == user_id)).all())
    return {kind: chosen.get(kind, Delivery.IMMEDIATELY.value) for kind in KINDS}


def set_preference(user_id: int, kind: str, delivery: str) -> None:
    """Raises ValueError for an unknown kind or delivery. Mail not yet sent follows the new choice."""
    if kind not in KINDS or delivery not in {d.value for d in Delivery}:
        raise ValueError(f"unknown notification kind or delivery {kind!r} {delivery!r}")
    row = db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
    if row is None:
        row = NotificationPreference(user_id=user_id, kind=kind)
        db.session.add(row)
    row.delivery = delivery
    waiting = [MailState.PENDING.value, MailState.DIGEST.value]
    db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.kind == kind, Notification.mail_state.in_(waiting))
        .values(mail_state=_mail_state(delivery)).execution_options(synchronize_session=False))
    db.session.flush()
