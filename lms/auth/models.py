"""Accounts: users with one global role, and login throttling counters."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TimestampMixin, UTCDateTime
from lms.extensions import db


class Role(enum.StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    REGISTRAR = "registrar"
    ADMIN = "admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name_latin: Mapped[str] = mapped_column(String(120))
    name_kana: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    # Flask-Login stores this, not the id: rotating it ends every session of the user at once.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    student_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"))
    cohort_year: Mapped[int | None]
    locale: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    program: Mapped["Program | None"] = relationship()  # noqa: F821

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return not self.disabled

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class LoginThrottle(db.Model):
    """Failed-login counter per key: 'user:<id>' (an account, whichever login named it), 'login:<typed>'
    (no such account), 'device:<user id>:<nonce>' (a trusted browser), 'ip:<address>', and
    'slow:ip:<address>' (when a locked address may try next)."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
