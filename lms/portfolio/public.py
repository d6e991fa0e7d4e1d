"""The public portfolio page employers open from a link or a QR code, and the files it shows.

No login: the link's token is the credential, checked on every request (so a revoked link, an
expired one, or a portfolio its student hid answers 404 at once, also for files already linked
from an open page). The page is in Japanese unless the viewer picks another language.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from flask import Blueprint, Response, abort, current_app, render_template, session, url_for
from flask_babel import force_locale
from flask_login import current_user
from markupsafe import Markup

from lms.assignments.views import send_stored
from lms.extensions import db
from lms.portfolio import services

bp = Blueprint("portfolio_public", __name__, url_prefix="/p")

PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",  # shared with an employer, not with search engines
    "Referrer-Policy": "no-referrer",  # the token must not leak to the sites a piece links to
    "Cache-Control": "private, no-store",  # revoking a link must not leave copies in caches
}


def viewer_language() -> str:
    """The viewer's own choice (the header switcher, or their account), else Japanese."""
    chosen = session.get("locale")
    if not chosen and current_user.is_authenticated:
        chosen = current_user.locale
    return chosen if chosen in current_app.config["LANGUAGES"] else "ja"


def _link_or_404(token: str):
    link = services.open_link(token)
    if link is None:
        abort(404)
    return link


@bp.get("/<token>")
def show(token: str):
    link = _link_or_404(token)
    portfolio, language = link.portfolio, viewer_language()
    with force_locale(language):
        content = _content(link, token, language)
        body = render_template("portfolio/public.html", student=portfolio.student, body=content)
    services.count_view(link)  # after rendering: the commit expires what the page showed
    db.session.commit()
    return body, 200, PRIVATE_HEADERS


# Rendered contents by (stamp, language, token): every viewer of a link sees the same page, and
# rendering 20 pieces is most of its cost. The stamp is read on every view, so any change (an
# edit, a grade, a release taken back, a build ready) makes a new key; old ones age out.
_rendered: OrderedDict[tuple, Markup] = OrderedDict()
_rendered_lock = threading.Lock()
RENDERED_MAX = 256


def _content(link, token: str, language: str) -> Markup:
    portfolio = link.portfolio
    # A build's iframe URL and a video's poster URL are signed for a while: a page is reused for
    # half of that at most, so the URLs it carries stay valid for at least the other half.
    config = current_app.config
    period = max(1, min(int(config["BUILD_URL_MAX_AGE"]), int(config["MEDIA_URL_MAX_AGE"])) // 2)
    key = (services.stamp(portfolio), language, token, int(time.time() // period))
    with _rendered_lock:
        content = _rendered.get(key)
        if content is not None:
            _rendered.move_to_end(key)
            return content
    content = Markup(render_template("portfolio/_public_body.html", portfolio=portfolio, student=portfolio.student,
                                     shown=services.shown_pieces(portfolio), token=token,
                                     poster=lambda video: _poster(video, link.id)))
    with _rendered_lock:
        _rendered[key] = content
        while len(_rendered) > RENDERED_MAX:
            _rendered.popitem(last=False)
    return content


def _poster(video, link_id: int) -> str | None:
    from lms.video.media_access import Viewer, media_url

    return media_url(video.id, Viewer(link_id=link_id), "poster.jpg") if video.width else None


@bp.get("/<token>/pieces/<int:piece_id>/video")
def video(token: str, piece_id: int):
    """A video piece on a page of its own (one player per page), through the normal HLS player."""
    from lms.video.media_access import Viewer
    from lms.video.models import Video, VideoState
    from lms.video.views import playback_urls

    link = _link_or_404(token)
    item = next((x for x in services.shown_pieces(link.portfolio) if x.piece.id == piece_id), None)
    video = db.session.get(Video, item.submission.video_id) if item and item.submission.video_id else None
    if video is None or video.state != VideoState.READY:
        abort(404)
    with force_locale(viewer_language()):
        body = render_template("portfolio/video.html", item=item, token=token, student=link.portfolio.student,
                               p=playback_urls(video, Viewer(link_id=link.id)))
    return body, 200, PRIVATE_HEADERS


@bp.get("/<token>/summary.pdf")
def summary(token: str):
    """The one-page summary in Japanese, for printing or attaching to an application."""
    from lms.filenames import content_disposition
    from lms.portfolio.summary import summary_html
    from lms.records.pdf_render import html_to_pdf

    link = _link_or_404(token)
    name = link.portfolio.student.name_latin
    html = summary_html(link.portfolio, url_for("portfolio_public.show", token=token, _external=True))
    db.session.rollback()  # reading is done: no transaction stays open while the PDF is laid out
    pdf = html_to_pdf(html)
    response = Response(pdf, mimetype="application/pdf")
    response.headers.update(PRIVATE_HEADERS)
    response.headers["Content-Disposition"] = content_disposition(f"portfolio-{name}.pdf", inline=True)
    return response


@bp.get("/<token>/pieces/<int:piece_id>/files/<int:file_id>")
def file(token: str, piece_id: int, file_id: int):
    link = _link_or_404(token)
    for item in services.shown_pieces(link.portfolio):
        if item.piece.id == piece_id:
            record = next((f for f in item.submission.files if f.id == file_id), None)
            if record is None:
                break
            response = send_stored(record.storage_key, record.filename, record.media_type)
            response.headers.update(PRIVATE_HEADERS)
            return response
    abort(404)
