"""In-app notifications (each with its e-mail's state) and each person's delivery choice per kind.

A notification stores its kind and parameters, never rendered text: the bell, the page and the
e-mail each word it in their reader's language when they show it (lms/notifications/kinds.py).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class Delivery(enum.StrEnum):
    IMMEDIATELY = "immediately"
    DIGEST = "digest"  # one e-mail a day with everything since the last one
    OFF = "off"  # in the app only


class MailState(enum.StrEnum):
    NONE = "none"  # no e-mail wanted (preference off, or no mail server configured)
    PENDING = "pending"  # to be sent by the notification's job
    DIGEST = "digest"  # waits for the next daily digest
    SENT = "sent"  # accepted by the mail server: never sent again
    REFUSED = "refused"  # the mail server refused the address for good


class Notification(db.Model):
    __tablename__ = "notifications"
    # One notification per person and event: a job that runs again adds nothing twice.
    __table_args__ = (UniqueConstraint("user_id", "event_key"),
                      Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
                      Index("ix_notifications_mail_state", "mail_state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    event_key: Mapped[str] = mapped_column(String(120))  # e.g. "announcement:12"
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(500))  # a path inside the app
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_state: Mapped[str] = mapped_column(String(10), default=MailState.NONE.value)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationPreference(db.Model):
    """A person's choice for one kind; no row means the kind's default (immediately)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    delivery: Mapped[str] = mapped_column(String(12), default=Delivery.IMMEDIATELY.value)
