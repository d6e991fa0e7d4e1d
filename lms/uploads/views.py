"""JSON endpoints behind static/js/direct-upload.js. Every change needs the CSRF header; every
upload is only ever visible to the user who started it."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.errors import DomainError
from lms.extensions import db
from lms.storage import Part, StorageError, TooLarge
from lms.uploads import services
from lms.uploads.models import Upload, UploadState

bp = Blueprint("uploads", __name__, url_prefix="/uploads")


def _describe(upload: Upload, parts: list[Part] | None = None) -> dict:
    return {"token": upload.token, "state": upload.state.value, "size": upload.size,
            "part_size": upload.part_size, "part_count": upload.part_count, "error": upload.error,
            "parts": [{"number": p.number, "size": p.size, "etag": p.etag} for p in (parts or [])],
            "status_url": url_for("uploads.show", token=upload.token)}


def _failed(exc: DomainError):
    db.session.rollback()
    return jsonify(error=exc.message), exc.status


@bp.post("")
@login_required
def start():
    data = request.get_json(silent=True) or {}
    try:
        target_id, size = int(data.get("target_id")), int(data.get("size"))
    except (TypeError, ValueError):
        return jsonify(error=_("The upload request is incomplete. Reload the page and try again.")), 400
    try:
        upload = services.start(current_user, str(data.get("purpose") or ""), target_id,
                                str(data.get("filename") or ""), size)
    except DomainError as exc:
        return _failed(exc)
    db.session.commit()
    return jsonify(_describe(upload)), 201


@bp.get("/<token>")
@login_required
def show(token: str):
    try:
        upload = services.find_open(current_user, token)
        parts = services.parts(upload)
    except DomainError as exc:
        db.session.commit()  # an expired upload is marked so, whatever the answer
        return jsonify(error=exc.message), exc.status
    return jsonify(_describe(upload, parts))


@bp.get("/<token>/parts/<int:number>")
@login_required
def part_target(token: str, number: int):
    """Where to PUT a part: a presigned URL on S3 (straight to the bucket), else the app's own route."""
    try:
        upload = services.find_open(current_user, token)
        url = services.part_url(upload, number)
    except DomainError as exc:
        return _failed(exc)
    direct = url is not None
    return jsonify(url=url if direct else url_for("uploads.put_part", token=token, number=number), direct=direct)


@bp.put("/<token>/parts/<int:number>")
@login_required
def put_part(token: str, number: int):
    try:
        upload = services.find_open(current_user, token)
        part = services.put_part(upload, number, request.stream, request.headers.get("X-Part-SHA256"))
    except TooLarge:
        return jsonify(error=_("That part is bigger than this upload allows.")), 413
    except services.PartIncomplete as exc:
        return jsonify(error=exc.message, resend=True), exc.status
    except DomainError as exc:
        return _failed(exc)
    except StorageError:
        return jsonify(error=_("Upload the part again.")), 409
    return jsonify(number=part.number, size=part.size, etag=part.etag)


@bp.post("/<token>/complete")
@login_required
def complete(token: str):
    data = request.get_json(silent=True) or {}
    try:
        sent = [Part(int(p["number"]), 0, str(p["etag"]).strip('"')) for p in data.get("parts") or []]
    except (TypeError, ValueError, KeyError):
        return jsonify(error=_("The upload request is incomplete. Reload the page and try again.")), 400
    try:
        upload = services.complete(services.find_open(current_user, token), sent)
    except DomainError as exc:
        return _failed(exc)
    db.session.commit()
    if upload.state != UploadState.COMPLETE:
        return jsonify(_describe(upload)), 422
    return jsonify(_describe(upload))


@bp.post("/<token>/abort")
@login_required
def abort(token: str):
    try:
        services.abort(services.find_open(current_user, token))
    except DomainError as exc:
        return _failed(exc)
    db.session.commit()
    return "", 204


def register(app: Flask) -> None:
    app.register_blueprint(bp)
