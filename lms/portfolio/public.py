"""The public portfolio page employers open from a link or a QR code, and the files it shows.

No login: the link's token is the credential, checked on every request (so a revoked link, an
expired one, or a portfolio its student hid answers 404 at once, also for files already linked
from an open page). The page is in Japanese unless the viewer picks another language.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, session
from flask_babel import force_locale
from flask_login import current_user

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
    portfolio = link.portfolio
    shown = services.shown_pieces(portfolio)
    with force_locale(viewer_language()):
        body = render_template("portfolio/public.html", portfolio=portfolio, student=portfolio.student,
                               shown=shown, token=token)
    services.count_view(link)  # after rendering: the commit expires what the page showed
    db.session.commit()
    return body, 200, PRIVATE_HEADERS


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
