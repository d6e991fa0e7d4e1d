"""Accounts: creating users, logging in with throttling, changing passwords. Services flush only."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.auth import devices
from lms.auth.models import LoginThrottle, Role, User, new_session_token
from lms.auth.passwords import hash_password, password_problem, verify_password
from lms.db import utcnow
from lms.errors import Conflict, DomainError
from lms.extensions import db


class LoginRefused(DomainError):
    """Wrong credentials or a locked key. The message never says which account exists."""

    status = 401


class WeakPassword(DomainError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_login(login: str) -> User | None:
    login = login.strip()
    if "@" in login:
        return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(login)))
    return db.session.scalar(select(User).where(User.student_number == login))


def create_user(*, email: str, name_latin: str, role: Role, password: str | None = None,
                name_kana: str | None = None, student_number: str | None = None,
                program_id: int | None = None, cohort_year: int | None = None) -> tuple[User, str]:
    """Create a user who must choose a new password at first login.

    Returns the user and the initial password (generated when none is given).
    Raises Conflict when the email or student number is taken.
    """
    email = normalize_email(email)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Conflict(_("A user with the email %(email)s already exists.", email=email))
    if student_number and db.session.scalar(select(User.id).where(User.student_number == student_number)):
        raise Conflict(_("Student number %(n)s is already taken.", n=student_number))
    initial = password or generate_initial_password()
    user = User(email=email, name_latin=name_latin.strip(), name_kana=(name_kana or "").strip() or None,
                role=role, password_hash=hash_password(initial), must_change_password=True,
                student_number=student_number or None, program_id=program_id, cohort_year=cohort_year)
    db.session.add(user)
    db.session.flush()
    return user, initial


def generate_initial_password() -> str:
    # Readable for a printed hand-out: no 0/O or 1/l confusion.
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _throttle(key: str) -> LoginThrottle:
    query = select(LoginThrottle).where(LoginThrottle.key == key)
    row = db.session.scalar(query)
    if row is None:
        try:
            # Two failed logins racing for a new key: one inserts, the other reads its row.
            with db.session.begin_nested():
                row = LoginThrottle(key=key, failures=0, window_started_at=utcnow())
                db.session.add(row)
        except IntegrityError:
            row = db.session.scalar(query)
    return row


def _locked_until(keys: list[str], now: datetime) -> datetime | None:
    rows = db.session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).all()
    until = [r.locked_until for r in rows if r.locked_until and r.locked_until > now]
    return max(until) if until else None


def _record_failure(account_key: str, ip_key: str | None, now: datetime) -> None:
    cfg = current_app.config
    window = timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"])
    counters = [(account_key, cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"])]
    if ip_key:
        counters.append((ip_key, cfg["LOGIN_MAX_FAILURES_PER_IP"]))
    for key, limit in counters:
        row = _throttle(key)
        if now - row.window_started_at > window:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + window
            row.failures, row.window_started_at = 0, now
    db.session.flush()


def _slowed(ip_key: str, now: datetime) -> int:
    """Seconds to wait before the next attempt from a locked address (0: go ahead, and the next
    one waits). Slowing, not refusing: one attacker must not shut out a whole campus."""
    slot = _throttle("slow:" + ip_key)
    if slot.locked_until and slot.locked_until > now:
        return max(1, int((slot.locked_until - now).total_seconds()) + 1)
    slot.locked_until = now + timedelta(seconds=current_app.config["LOGIN_IP_SLOW_SECONDS"])
    return 0


def authenticate(login: str, password: str, ip: str, device_cookie: str | None = None) -> User:
    """Return the user for these credentials.

    Raises LoginRefused with the same message for an unknown login, a wrong password and a
    disabled account, and a lockout message after repeated failures for the account (whichever
    login names it: e-mail or student number) or, for an unknown login, for what was typed. A
    browser the account logged in from before (`device_cookie`, lms.auth.devices) has a counter of
    its own and skips the IP limit; others are slowed down while their address is over its limit.
    The caller must commit even on failure, so the counters persist.
    """
    now = utcnow()
    user = find_user_by_login(login)
    device = devices.for_user(device_cookie, user.id if user else None)
    if device is not None:
        account_key, ip_key = device.throttle_key, None
    else:
        account_key = f"user:{user.id}" if user else "login:" + login.strip().lower()[:250]
        ip_key = "ip:" + ip
    until = _locked_until([account_key], now)
    if until:
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        raise LoginRefused(_("Too many failed attempts. Try again in %(n)d minutes.", n=minutes))
    if ip_key and _locked_until([ip_key], now) and (wait := _slowed(ip_key, now)):
        raise LoginRefused(_("Many failed logins came from your network. Wait %(n)d seconds and try again.",
                             n=wait))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        _record_failure(account_key, ip_key, now)
        raise LoginRefused(_("Wrong email, student number or password."))
    db.session.execute(db.delete(LoginThrottle).where(LoginThrottle.key == account_key))
    user.last_login_at = now
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Raises WeakPassword or LoginRefused (wrong current password)."""
    if not verify_password(user.password_hash, current):
        raise LoginRefused(_("Your current password is not correct."))
    if current == new:
        raise WeakPassword(_("Choose a password different from the current one."))
    set_password(user, new)


def set_password(user: User, new: str, *, must_change: bool = False) -> None:
    problem = password_problem(new, user.email, user.name_latin, user.student_number)
    if problem:
        raise WeakPassword(problem)
    user.password_hash = hash_password(new)
    user.must_change_password = must_change
    user.session_token = new_session_token()


def end_sessions(user: User) -> None:
    """Log the user out everywhere: the next request from any old session is anonymous."""
    user.session_token = new_session_token()


def set_disabled(user: User, disabled: bool) -> None:
    user.disabled = disabled
    if disabled:
        end_sessions(user)
