"""The student's portfolio editor, the QR code of a link, and the registrar's list."""
from __future__ import annotations

import io

import segno
from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth.models import Role
from lms.auth.permissions import roles_required
from lms.db import utcnow
from lms.extensions import db
from lms.errors import attempt
from lms.loading import load_or_404
from lms.portfolio import permissions, services
from lms.portfolio.forms import AddPieceForm, LinkForm, PieceForm, SettingsForm
from lms.portfolio.models import PortfolioLink, PortfolioPiece

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")


def public_url(link: PortfolioLink) -> str:
    return url_for("portfolio_public.show", token=link.token, _external=True)


@bp.get("")
@roles_required(Role.STUDENT)
def edit():
    portfolio = services.portfolio_of(current_user.id)
    chosen = {p.submission_id for p in portfolio.pieces} if portfolio else set()
    candidates = [s for s in services.eligible_submissions(current_user.id) if s.id not in chosen]
    shown = {s.piece.id for s in services.shown_pieces(portfolio)} if portfolio else set()
    return render_template("portfolio/edit.html", portfolio=portfolio, candidates=candidates, shown=shown,
                           settings_form=SettingsForm(obj=portfolio), link_form=LinkForm(),
                           piece_forms={p.id: PieceForm(obj=p, prefix=f"piece-{p.id}")
                                        for p in (portfolio.pieces if portfolio else [])},
                           public_url=public_url, max_pieces=services.MAX_PIECES, now=utcnow())


def _back():
    return redirect(url_for("portfolio.edit"))


def _form_errors(form) -> None:
    flash(" ".join(str(e) for errors in form.errors.values() for e in errors) or
          _("The form has expired. Please try again."), "error")


@bp.post("/settings")
@roles_required(Role.STUDENT)
def settings():
    form = SettingsForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return _back()
    portfolio = services.portfolio_of(current_user.id, create=True)
    if attempt(lambda: services.update_settings(
            portfolio, headline_en=form.headline_en.data, headline_ja=form.headline_ja.data,
            show_email=form.show_email.data, show_student_number=form.show_student_number.data,
            hidden=form.hidden.data) or True):
        flash(_("Your portfolio is hidden: every link answers “not found”.") if form.hidden.data
              else _("Portfolio settings saved."), "success")
    return _back()


@bp.post("/pieces")
@roles_required(Role.STUDENT)
def add():
    form = AddPieceForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return _back()
    portfolio = services.portfolio_of(current_user.id, create=True)
    if attempt(lambda: services.add_piece(portfolio, form.submission_id.data)):
        flash(_("Added to your portfolio. Give it a title and a short description below."), "success")
    return _back()


@bp.post("/pieces/<int:piece_id>")
@roles_required(Role.STUDENT)
def update(piece_id: int):
    piece = load_or_404(PortfolioPiece, piece_id, permissions.owns)
    form = PieceForm(prefix=f"piece-{piece.id}")
    if not form.validate_on_submit():
        _form_errors(form)
        return _back()
    if attempt(lambda: services.update_piece(
            piece, title_en=form.title_en.data, title_ja=form.title_ja.data, description_en=form.description_en.data,
            description_ja=form.description_ja.data, show_grade=form.show_grade.data,
            show_feedback=form.show_feedback.data) or True):
        flash(_("Piece saved."), "success")
    return _back()


@bp.post("/pieces/<int:piece_id>/<any(up, down):direction>")
@roles_required(Role.STUDENT)
def move(piece_id: int, direction: str):
    piece = load_or_404(PortfolioPiece, piece_id, permissions.owns)
    attempt(lambda: services.move_piece(piece, -1 if direction == "up" else 1) or True)
    return _back()


@bp.post("/pieces/<int:piece_id>/remove")
@roles_required(Role.STUDENT)
def remove(piece_id: int):
    piece = load_or_404(PortfolioPiece, piece_id, permissions.owns)
    if attempt(lambda: services.remove_piece(piece, current_user.id) or True):
        flash(_("Removed from your portfolio. The work itself is unchanged."), "success")
    return _back()


@bp.post("/links")
@roles_required(Role.STUDENT)
def create_link():
    form = LinkForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return _back()
    portfolio = services.portfolio_of(current_user.id, create=True)
    days = int(form.expires.data) if form.expires.data else None
    if attempt(lambda: services.create_link(portfolio, form.label.data, days)):
        flash(_("A new public link is ready. Anyone with it can see your portfolio."), "success")
    return _back()


@bp.post("/links/<int:link_id>/revoke")
@roles_required(Role.STUDENT)
def revoke_link(link_id: int):
    link = load_or_404(PortfolioLink, link_id, permissions.owns)
    if attempt(lambda: services.revoke_link(link) or True):
        flash(_("The link is revoked: it answers “not found” from now on."), "success")
    return _back()


@bp.get("/links/<int:link_id>/qr.svg")
@roles_required(Role.STUDENT)
def qr(link_id: int):
    """The link as a QR code for a printed CV (SVG: sharp at any size)."""
    link = load_or_404(PortfolioLink, link_id, permissions.owns)
    out = io.BytesIO()
    segno.make(public_url(link), error="m").save(out, kind="svg", scale=8, border=2)
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = "inline; filename=portfolio-qr.svg"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/public")
@login_required
def registry():
    """The registrar's list of students whose portfolio can be seen by a link now."""
    if not permissions.can_list_public(current_user):
        abort(403)
    return render_template("portfolio/registry.html", rows=services.public_portfolios())


def register(app: Flask) -> None:
    from lms import markdown
    from lms.portfolio import proof, public  # noqa: F401  proof registers the signing job

    app.register_blueprint(bp)
    app.register_blueprint(public.bp)
    app.add_template_filter(markdown.render_cached, "markdown")  # sanitized (lms/markdown.py)
    app.jinja_env.globals["video_of"] = _video_of


def _video_of(submission):
    from lms.video.models import Video

    return db.session.get(Video, submission.video_id) if submission.video_id else None
