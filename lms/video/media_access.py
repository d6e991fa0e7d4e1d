"""Short-lived signed URLs for a student's playlists, segments, captions and poster.

A token names the video and who watches: a user, valid only in that user's session (a copied link
is useless to anyone else), or a public portfolio link, valid while that link is (an employer has
no account). Either way it expires after MEDIA_URL_MAX_AGE seconds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

NAME_RE = re.compile(r"^(master\.m3u8|poster\.jpg|[0-9a-z]+/index\.m3u8|[0-9a-z]+/seg_\d{5}\.ts|captions/[a-z]{2}\.vtt)$")
MIME = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".jpg": "image/jpeg",
        ".vtt": "text/vtt; charset=utf-8"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="lesson-media")


@dataclass(frozen=True)
class Viewer:
    """Who a media URL is for: a logged-in user, or the viewers of a public portfolio link."""

    user_id: int | None = None
    link_id: int | None = None


def media_url(video_id: int, viewer: Viewer | int, name: str) -> str:
    viewer = viewer if isinstance(viewer, Viewer) else Viewer(user_id=viewer)
    claims = {"v": video_id, "u": viewer.user_id} if viewer.link_id is None else {"v": video_id, "l": viewer.link_id}
    return url_for("video.media", token=_serializer().dumps(claims), name=name)


def read_token(token: str) -> tuple[int, Viewer] | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["MEDIA_URL_MAX_AGE"])
    except BadSignature:
        return None
    if not isinstance(data, dict) or type(data.get("v")) is not int:
        return None
    if type(data.get("u")) is int:
        return data["v"], Viewer(user_id=data["u"])
    if type(data.get("l")) is int:
        return data["v"], Viewer(link_id=data["l"])
    return None


def mimetype(name: str) -> str | None:
    return next((m for ext, m in MIME.items() if name.endswith(ext)), None)
