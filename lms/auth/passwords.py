"""Password policy: length, a common-password list, and no password made of the user's own name."""
from __future__ import annotations

from functools import cache
from importlib import resources

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128
# A hash of a random string: checking it costs as much as checking a real one, so unknown
# accounts take as long to reject as known ones.
_DUMMY_HASH = generate_password_hash("not-a-real-password-6f1c2b", method="scrypt")


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("lms.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, *personal: str | None) -> str | None:
    """Return why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) < 4:
        return _("This password is too common; choose one that is harder to guess.")
    for item in personal:
        for part in (item or "").lower().replace("@", " ").replace(".", " ").split():
            if len(part) >= 4 and part in lowered:
                return _("Do not use your name, email or student number in the password.")
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    return check_password_hash(password_hash or _DUMMY_HASH, password) and password_hash is not None
