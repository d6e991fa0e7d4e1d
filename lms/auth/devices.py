"""Device cookies: a browser where an account has logged in before is trusted for that account.

A campus shares one public address, so a lockout per IP would lock every student out during one
attacker's run. Attempts from a browser that carries this (signed) cookie for the account skip the
IP limit and the account lockout, and count failures against that device alone; everyone else is
slowed down (one attempt per LOGIN_IP_SLOW_SECONDS from a locked address), never shut out. After
OWASP's "Slow Down Online Guessing Attacks with Device Cookies".
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "lms_device"
MAX_AGE_SECONDS = 365 * 24 * 3600
MAX_ACCOUNTS = 8  # a shared lab computer remembers this many accounts


@dataclass(frozen=True)
class Device:
    user_id: int
    nonce: str  # names this browser's own failure counter

    @property
    def throttle_key(self) -> str:
        return f"device:{self.user_id}:{self.nonce}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kakehashi-login-device")


def read(cookie: str | None) -> list[Device]:
    """The devices in a cookie; an unsigned, tampered or expired cookie holds none."""
    if not cookie:
        return []
    try:
        pairs = _serializer().loads(cookie, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return []
    if not isinstance(pairs, list):
        return []
    return [Device(int(u), str(n)) for u, n in pairs if isinstance(u, int) and isinstance(n, str)]


def for_user(cookie: str | None, user_id: int | None) -> Device | None:
    if user_id is None:
        return None
    return next((d for d in read(cookie) if d.user_id == user_id), None)


def remember(cookie: str | None, user_id: int) -> str:
    """The cookie's new value after `user_id` logged in here: this account first, the oldest dropped."""
    kept = [d for d in read(cookie) if d.user_id != user_id]
    mine = for_user(cookie, user_id) or Device(user_id, secrets.token_urlsafe(9))
    devices = [mine, *kept][:MAX_ACCOUNTS]
    return _serializer().dumps([[d.user_id, d.nonce] for d in devices])


def set_cookie(response, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=MAX_AGE_SECONDS, path="/login", httponly=True,
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), samesite="Lax")
