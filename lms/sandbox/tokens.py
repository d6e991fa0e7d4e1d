"""Signed, short-lived names for a game build, made by the app and read by the sandbox.

The token is the sandbox's only credential (it has no cookies): it names the build and its
submission, and the viewer's user id so the sandbox's log says who opened what.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "game-build"


@dataclass(frozen=True)
class BuildClaims:
    build_id: int
    submission_id: int
    user_id: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def build_token(build_id: int, submission_id: int, user_id: int) -> str:
    return _serializer().dumps({"b": build_id, "s": submission_id, "u": user_id})


def read_build_token(token: str) -> BuildClaims | None:
    """The claims of a valid, unexpired token; None for anything else."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["BUILD_URL_MAX_AGE"])
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict) or not all(type(data.get(k)) is int for k in "bsu"):
        return None
    return BuildClaims(data["b"], data["s"], data["u"])
