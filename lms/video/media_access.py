"""Short-lived signed URLs for a student's playlists, segments, captions and poster.

A token names the video and the user; it is valid for MEDIA_URL_MAX_AGE seconds and only in that
user's session, so a copied link is useless to anyone else.
"""
from __future__ import annotations

import re

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

NAME_RE = re.compile(r"^(master\.m3u8|poster\.jpg|[0-9a-z]+/index\.m3u8|[0-9a-z]+/seg_\d{5}\.ts|captions/[a-z]{2}\.vtt)$")
MIME = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".jpg": "image/jpeg",
        ".vtt": "text/vtt; charset=utf-8"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="lesson-media")


def media_url(video_id: int, user_id: int, name: str) -> str:
    token = _serializer().dumps({"v": video_id, "u": user_id})
    return url_for("video.media", token=token, name=name)


def read_token(token: str) -> tuple[int, int] | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["MEDIA_URL_MAX_AGE"])
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("v"), int) or not isinstance(data.get("u"), int):
        return None
    return data["v"], data["u"]


def mimetype(name: str) -> str | None:
    return next((m for ext, m in MIME.items() if name.endswith(ext)), None)
