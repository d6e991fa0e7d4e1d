"""GET /b/<token>/<path>: one file of a ready build, with the type and encoding the engines expect."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_file, stream_with_context
from werkzeug.security import safe_join

from lms.assignments.models import BuildState, GameBuild
from lms.extensions import db
from lms.sandbox.tokens import read_build_token
from lms.storage import LocalStorage, StorageError, get_storage
from lms.storage.base import CHUNK

bp = Blueprint("sandbox", __name__)

TYPES = {
    ".html": "text/html", ".htm": "text/html", ".js": "application/javascript",
    ".mjs": "application/javascript", ".wasm": "application/wasm", ".data": "application/octet-stream",
    ".pck": "application/octet-stream", ".unityweb": "application/octet-stream", ".json": "application/json",
    ".css": "text/css", ".txt": "text/plain", ".xml": "application/xml", ".png": "image/png",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".svg": "image/svg+xml", ".ico": "image/x-icon", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".wav": "audio/wav", ".m4a": "audio/mp4", ".mp4": "video/mp4", ".webm": "video/webm",
    ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
}
# Unity's precompressed files: the browser must inflate them itself, as the type of what is inside.
ENCODINGS = {".gz": "gzip", ".br": "br"}
DEFAULT_TYPE = "application/octet-stream"


def content_type(name: str) -> tuple[str, str | None]:
    """(media type, Content-Encoding or None) for a file name: `game.wasm.br` is application/wasm in br."""
    stem, encoding = name, None
    suffix = Path(name).suffix.lower()
    if suffix in ENCODINGS:
        stem, encoding = name[: -len(suffix)], ENCODINGS[suffix]
    return TYPES.get(Path(stem).suffix.lower(), DEFAULT_TYPE), encoding


@bp.get("/b/<token>/<path:name>")
def build_file(token: str, name: str):
    claims = read_build_token(token)
    if claims is None:
        abort(404)
    build = db.session.get(GameBuild, claims.build_id)
    if (build is None or build.state != BuildState.READY or not build.prefix
            or build.submission_id != claims.submission_id):
        abort(404)
    key = _key_in(build.prefix, name)
    if name == build.entry:
        current_app.logger.info("build %s (submission %s) opened by user %s",
                                build.id, build.submission_id, claims.user_id)
    mimetype, encoding = content_type(name)
    max_age = int(current_app.config["BUILD_URL_MAX_AGE"])
    response = _send(key, mimetype, max_age)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    # Without allow-same-origin the build's document has an opaque origin, so its own fetches of
    # .wasm and .data (Origin: null) are cross-origin. No cookies are involved, and the token is the
    # only key to these files, so any origin may read them.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _key_in(prefix: str, name: str) -> str:
    """The storage key of `name` under the build's folder, or 404; never anything outside it."""
    key = safe_join(prefix, name)
    if key is None or not key.startswith(prefix.rstrip("/") + "/"):
        abort(404)
    try:
        if not get_storage().exists(key):
            abort(404)
    except StorageError:
        abort(404)
    return key


def _send(key: str, mimetype: str, max_age: int):
    storage = get_storage()
    if isinstance(storage, LocalStorage):
        return send_file(storage.path(key), mimetype=mimetype, conditional=True, max_age=max_age)
    # On S3 the sandbox relays the bytes: a redirect would move the build's files to the bucket's
    # origin, and the build's own relative URLs would lose their signatures.
    size, body = storage.size(key), storage.open(key)
    response = Response(stream_with_context(iter(lambda: body.read(CHUNK), b"")), mimetype=mimetype,
                        direct_passthrough=True)
    response.content_length = size
    response.call_on_close(body.close)
    return response
