"""Video upload and status for instructors; playback media, captions and watching for students."""
from __future__ import annotations

import json
import re
from urllib.parse import unquote

from flask import Blueprint, Flask, Response, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from lms.auth.models import Role
from lms.auth.permissions import roles_required
from lms.catalog import permissions
from lms.catalog.models import Lesson, Offering
from lms.errors import DomainError
from lms.extensions import db, login_manager
from lms.loading import load_or_404
from lms.storage import StorageError, TooLarge, get_storage
from lms.storage.delivery import deliver
from lms.uploads import services as uploads
from lms.video import captions, services
from lms.video.hls import presign_segments
from lms.video.media_access import NAME_RE, Viewer, media_url, mimetype, read_token
from lms.video.models import Caption, Video, VideoState

bp = Blueprint("video", __name__)
PLAYLIST_MAX_BYTES = 2 * 1024 * 1024  # a 4-hour lecture's playlist is ~100 kB
authors = roles_required(Role.INSTRUCTOR, Role.ADMIN)


def _editable_lesson(lesson_id: int) -> Lesson:
    lesson = load_or_404(Lesson, lesson_id)
    if not permissions.can_edit_course(current_user, lesson.course):
        abort(403)
    return lesson


def _editable_video(video_id: int) -> Video:
    video = load_or_404(Video, video_id)
    if not permissions.can_edit_course(current_user, video.lesson.course):
        abort(403)
    return video


def _too_large_message() -> str:
    gib = services.max_upload_bytes() / 1024**3
    return _("The video is larger than the %(size)s GB limit. Export it at a lower bit rate or split it.",
             size=f"{gib:g}")


@bp.route("/authoring/lessons/<int:lesson_id>/video", methods=["POST"])
@authors
def upload(lesson_id: int):
    lesson = _editable_lesson(lesson_id)
    limit = services.max_upload_bytes()
    if (request.content_length or 0) > limit:
        return jsonify(error=_too_large_message()), 413
    try:
        if request.is_json:  # sent in parts beforehand (static/js/direct-upload.js)
            staged = uploads.claim(current_user, (request.get_json(silent=True) or {}).get("upload"),
                                   "lesson_video", lesson.id)
            if staged is None:
                return jsonify(error=_("Choose a video file to upload.")), 400
            video = services.attach_stored(lesson, current_user.id, staged.key, staged.filename, staged.size,
                                           staged.sha256)
            db.session.commit()
            return jsonify(video_id=video.id, status_url=url_for("video.status", video_id=video.id)), 201
        if request.mimetype == "multipart/form-data":
            upload_file = request.files.get("file")
            if upload_file is None or not upload_file.filename:
                return jsonify(error=_("Choose a video file to upload.")), 400
            stream, name = upload_file.stream, upload_file.filename
        else:
            stream, name = request.stream, unquote(request.headers.get("X-Upload-Name", "video"))
        video = services.attach_upload(lesson, current_user.id, stream, name, limit)
    except (TooLarge, RequestEntityTooLarge):
        db.session.rollback()
        return jsonify(error=_too_large_message()), 413
    except DomainError as exc:
        db.session.rollback()
        return jsonify(error=exc.message), 400
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        get_storage().delete(video.original_key)
        raise
    if request.accept_mimetypes.best == "text/html":
        flash(_("Upload received; the video is being prepared."), "success")
        return redirect(url_for("authoring.edit_lesson", lesson_id=lesson.id))
    return jsonify(video_id=video.id, status_url=url_for("video.status", video_id=video.id)), 201


@bp.route("/authoring/videos/<int:video_id>/status")
@authors
def status(video_id: int):
    return jsonify(services.status(_editable_video(video_id)).as_dict())


@bp.route("/authoring/videos/<int:video_id>/retry", methods=["POST"])
@authors
def retry(video_id: int):
    video = _editable_video(video_id)
    if services.status(video).state == "failed":
        services.retry(video)
        db.session.commit()
        flash(_("The video is queued again."), "success")
    return redirect(url_for("authoring.edit_lesson", lesson_id=video.lesson_id))


@bp.route("/authoring/videos/<int:video_id>/captions", methods=["POST"])
@authors
def add_captions(video_id: int):
    video = _editable_video(video_id)
    language = request.form.get("language", "")
    upload_file = request.files.get("file")
    try:
        if language not in captions.LANGUAGES:
            raise captions.CaptionError(_("choose the captions' language"))
        if upload_file is None or not upload_file.filename:
            raise captions.CaptionError(_("choose a .vtt or .srt file"))
        text, cues = captions.to_webvtt(upload_file.stream.read(captions.MAX_BYTES + 1))
    except captions.CaptionError as exc:
        flash(_("The captions were not added: %(reason)s.", reason=str(exc)), "error")
        return redirect(url_for("authoring.edit_lesson", lesson_id=video.lesson_id))
    replaced = services.set_captions(video, language, text, cues)
    db.session.commit()
    if replaced:
        get_storage().delete(replaced)
    flash(_("Captions added (%(n)d cues).", n=cues), "success")
    return redirect(url_for("authoring.edit_lesson", lesson_id=video.lesson_id))


@bp.route("/authoring/videos/<int:video_id>/captions/<int:caption_id>/delete", methods=["POST"])
@authors
def delete_captions(video_id: int, caption_id: int):
    video = _editable_video(video_id)
    caption = db.session.get(Caption, caption_id)
    if caption is None or caption.video_id != video.id:
        abort(404)
    key = services.remove_captions(caption)
    db.session.commit()
    get_storage().delete(key)
    flash(_("Captions removed."), "success")
    return redirect(url_for("authoring.edit_lesson", lesson_id=video.lesson_id))


def may_watch(user, video: Video) -> bool:
    """Lesson videos: hidden lessons only for their staff. Submission videos: the submission's readers."""
    if video.lesson is None:
        from lms.assignments.permissions import can_view_submission_video

        return can_view_submission_video(user, video)
    return (video.lesson.published or permissions.can_edit_course(user, video.lesson.course)
            or permissions.oversees_all(user))


def _may_play(video: Video, viewer: Viewer) -> bool:
    if viewer.user_id is not None:  # a user's URL: in that user's session only
        return current_user.id == viewer.user_id and may_watch(current_user, video)
    from lms.portfolio.services import link_shows_video

    return link_shows_video(viewer.link_id, video.id)  # a portfolio link's: while the link shows it


@bp.route("/media/<token>/<path:name>")
def media(token: str, name: str):
    claims = read_token(token)
    if claims is None or not NAME_RE.match(name):
        abort(404)
    if claims[1].user_id is not None and not current_user.is_authenticated:
        return login_manager.unauthorized()  # a user's URL, opened logged out: log in first
    video = db.session.get(Video, claims[0])
    if video is None or video.state != VideoState.READY or not _may_play(video, claims[1]):
        abort(404)
    if name.startswith("captions/"):
        caption = db.session.scalar(select(Caption).where(
            Caption.video_id == video.id, Caption.language == name[9:11]))
        if caption is None:
            abort(404)
        key = caption.storage_key
    else:
        key = f"{video.published_prefix}/{name}"
    storage = get_storage()
    if not storage.signs_urls or not (name.endswith(".m3u8") or name.startswith("captions/")):
        response = deliver(key, mimetype=mimetype(name), inline=True, max_age=3600,
                           expires=current_app.config["MEDIA_URL_MAX_AGE"])
        if response.status_code == 200:
            response.headers["Cache-Control"] = "private, max-age=3600"
        return response
    # Playlists and captions are a few kB of text: read here, so segments can be signed and <track>
    # stays same-origin; the segments themselves go straight from the bucket to the player.
    try:
        body = storage.read_bytes(key, max_bytes=PLAYLIST_MAX_BYTES)
    except StorageError:
        abort(404)
    if name.endswith(".m3u8"):
        folder = key.rsplit("/", 1)[0]
        expires = current_app.config["MEDIA_URL_MAX_AGE"]
        body = presign_segments(body.decode("utf-8"), lambda segment: storage.presigned_url(
            f"{folder}/{segment}", expires=expires, content_type="video/mp2t")).encode("utf-8")
    response = Response(body, mimetype=mimetype(name))
    response.headers["Cache-Control"] = "private, max-age=600"  # well inside the signatures' lifetime
    return response


@bp.route("/offerings/<int:offering_id>/lessons/<int:lesson_id>/watch", methods=["POST"])
@login_required
def watch(offering_id: int, lesson_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_view_offering)
    lesson = db.session.get(Lesson, lesson_id)
    enrollment = permissions.enrollment_of(current_user, offering)
    if lesson is None or not permissions.can_view_lesson(current_user, offering, lesson) or enrollment is None:
        abort(403)
    video = services.lesson_video(lesson)
    if video is None or video.state != VideoState.READY:
        abort(404)
    try:
        intervals = json.loads(request.form.get("intervals") or "[]")
    except ValueError:
        raise DomainError(_("Malformed watching report.")) from None
    row = services.record_watching(enrollment, video, request.form.get("position", 0), intervals)
    db.session.commit()
    progress = services.lesson_progress(enrollment, lesson)
    return jsonify(position=row.position, watched_seconds=row.watched_seconds, duration=video.duration,
                   completed=services.completed(progress))


_masters: dict[str, str] = {}  # published prefix -> its master playlist (a published ladder never changes)


def _published_master(prefix: str) -> str | None:
    """The master playlist of a published ladder, read from storage once per process (every lesson
    view needs it). Only what was read is kept: a storage error is tried again next time."""
    text = _masters.get(prefix)
    if text is None:
        try:
            text = get_storage().read_bytes(f"{prefix}/master.m3u8", max_bytes=64 * 1024).decode()
        except (StorageError, OSError, UnicodeDecodeError):
            return None
        if len(_masters) > 4096:
            _masters.clear()
        _masters[prefix] = text
    return text


def inline_master(video: Video, viewer: Viewer | int) -> str | None:
    """The master playlist itself, its playlists' URLs signed for this user, for the page to hand to
    hls.js: the player starts one request sooner (a round trip: 150 ms and more on a mobile link).
    None (the player fetches it) if it cannot be read or names a file the media route would refuse."""
    text = _published_master(video.published_prefix)
    if text is None:
        return None
    names = re.findall(r'URI="([^"]+)"', text) + [line for line in text.splitlines() if line and line[0] != "#"]
    if not all(NAME_RE.match(name) and name.endswith("/index.m3u8") for name in names):
        return None
    sign = {name: media_url(video.id, viewer, name) for name in names}
    text = re.sub(r'URI="([^"]+)"', lambda m: f'URI="{sign[m.group(1)]}"', text)
    return "\n".join(sign.get(line, line) for line in text.splitlines()) + "\n"


def playback_urls(video: Video, viewer: Viewer | None = None) -> dict:
    """Signed URLs to play a ready video (lesson or submission): for the current user, or for
    `viewer` (a public portfolio link's)."""
    uid = viewer or Viewer(user_id=current_user.id)
    return {
        "video": video,
        "master": media_url(video.id, uid, "master.m3u8"),
        "master_text": inline_master(video, uid),
        # hls.js drops audio-only variants from a master with video, so the menu loads it directly.
        "audio": media_url(video.id, uid, "audio/index.m3u8") if "audio" in video.renditions else None,
        "poster": media_url(video.id, uid, "poster.jpg") if video.width else None,
        "tracks": [(c.language, captions.LANGUAGES[c.language], media_url(video.id, uid, f"captions/{c.language}.vtt"))
                   for c in video.captions],
    }


def player_context(offering: Offering, lesson: Lesson, enrollment) -> dict | None:
    """What the lesson page needs to play the lesson's video, or None when there is none ready."""
    video = services.lesson_video(lesson)
    if video is None or video.state != VideoState.READY:
        return None
    row = services.progress_of(enrollment, video) if enrollment else None
    return {
        **playback_urls(video),
        "position": row.position if row else 0,
        "watched": row.watched_seconds if row else 0,
        "watch_url": url_for("video.watch", offering_id=offering.id, lesson_id=lesson.id) if enrollment else None,
    }


def _video_upload_limit() -> None:
    # Before CSRF protection reads the form, or the global form-size cap would refuse the video.
    if request.endpoint == "video.upload":
        request.max_content_length = services.max_upload_bytes()


def register(app: Flask) -> None:
    from lms.video import tasks  # noqa: F401  registers the transcode job handler

    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _video_upload_limit)
    app.jinja_env.globals["lesson_player"] = player_context
    app.jinja_env.globals["lesson_videos"] = services.videos_of_lesson
    app.jinja_env.globals["video_status"] = services.status
    app.jinja_env.globals["caption_languages"] = captions.LANGUAGES
