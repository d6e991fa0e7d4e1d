"""What may go into a portfolio, and the student's edits to it. Services flush, views commit.

A piece is only ever one of the student's own submissions whose grade is released. That rule is
checked when a piece is added and again each time a portfolio is shown (`shown_pieces`), so work
whose release an instructor takes back, or a submission later deleted, drops out everywhere.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from lms.assignments.models import Assignment, Submission
from lms.catalog.models import Course, Offering
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.grading.models import Grade
from lms.grading.scores import apply_penalty
from lms.portfolio import proof
from lms.portfolio.models import (DESCRIPTION_MAX, HEADLINE_MAX, LABEL_MAX, TITLE_MAX, Portfolio,
                                  PortfolioLink, PortfolioPiece)

MAX_PIECES, MAX_LINKS, MAX_EXPIRY_DAYS = 20, 20, 730
FEEDBACK_EXCERPT = 400  # characters of the instructor's comment a piece may quote


@dataclass
class Shown:
    """A piece as a viewer sees it: the piece, its submission, and what the rules let it show."""

    piece: PortfolioPiece
    submission: Submission
    assignment: Assignment
    course: Course
    offering: Offering
    final_score: Decimal | None  # only when the student shows it
    feedback: str | None  # only when the student shows it and the instructor allows it


def _eligible():
    """(submission, grade) pairs a portfolio may show: the graded attempt (or, for a grade that
    names none, any attempt) of an assignment whose grades are released."""
    return (select(Submission, Grade).join(Assignment, Assignment.id == Submission.assignment_id)
            .join(Grade, and_(Grade.assignment_id == Submission.assignment_id,
                              Grade.student_id == Submission.student_id))
            .where(Assignment.released_at.is_not(None), Grade.raw_score.is_not(None),
                   or_(Grade.submission_id == Submission.id, Grade.submission_id.is_(None))))


def eligible_submissions(student_id: int) -> list[Submission]:
    """The student's work that may be added, newest first."""
    rows = db.session.execute(_eligible().where(Submission.student_id == student_id)
                              .options(selectinload(Submission.assignment).selectinload(Assignment.offering)
                                       .selectinload(Offering.course))
                              .order_by(Submission.submitted_at.desc(), Submission.id.desc()))
    return [submission for submission, _grade in rows]


def portfolio_of(student_id: int, *, create: bool = False) -> Portfolio | None:
    portfolio = db.session.scalar(select(Portfolio).where(Portfolio.student_id == student_id))
    if portfolio is None and create:
        portfolio = Portfolio(student_id=student_id)
        db.session.add(portfolio)
        db.session.flush()
    return portfolio


def add_piece(portfolio: Portfolio, submission_id: int) -> PortfolioPiece:
    row = db.session.execute(_eligible().where(Submission.id == submission_id,
                                               Submission.student_id == portfolio.student_id)).first()
    if row is None:  # someone else's, unreleased, ungraded or made up: one answer for all of them
        raise DomainError(_("Only your own graded work whose grade has been released can go into your portfolio."))
    submission = row[0]
    if any(p.submission_id == submission.id for p in portfolio.pieces):
        raise DomainError(_("This work is already in your portfolio."))
    if len(portfolio.pieces) >= MAX_PIECES:
        raise DomainError(_("A portfolio holds at most %(n)d pieces. Remove one first.", n=MAX_PIECES))
    piece = PortfolioPiece(submission_id=submission.id, title_en=submission.assignment.title[:TITLE_MAX],
                           position=1 + max((p.position for p in portfolio.pieces), default=0))
    portfolio.pieces.append(piece)
    db.session.flush()
    proof.enqueue([piece.id])  # signed by the worker, in this same transaction's commit
    return piece


def _text(value: str | None, limit: int, what: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(_("%(what)s is too long: %(n)d characters at most (this one has %(m)d).",
                            what=what, n=limit, m=len(value)))
    return value


def update_piece(piece: PortfolioPiece, *, title_en: str, title_ja: str, description_en: str,
                 description_ja: str, show_grade: bool, show_feedback: bool) -> None:
    piece.title_en = _text(title_en, TITLE_MAX, _("The English title"))
    piece.title_ja = _text(title_ja, TITLE_MAX, _("The Japanese title"))
    if not (piece.title_en or piece.title_ja):
        raise DomainError(_("Give the piece a title in English or Japanese."))
    piece.description_en = _text(description_en, DESCRIPTION_MAX, _("The English description"))
    piece.description_ja = _text(description_ja, DESCRIPTION_MAX, _("The Japanese description"))
    piece.show_grade, piece.show_feedback = show_grade, show_feedback
    db.session.flush()


def move_piece(piece: PortfolioPiece, step: int) -> None:
    """One place up (-1) or down (+1); positions are renumbered 1..n."""
    pieces = list(piece.portfolio.pieces)
    i = pieces.index(piece)
    j = max(0, min(len(pieces) - 1, i + step))
    pieces.insert(j, pieces.pop(i))
    for n, p in enumerate(pieces, start=1):
        p.position = n
    db.session.flush()


def remove_piece(piece: PortfolioPiece, actor_id: int) -> None:
    proof.revoke_for(piece, "Removed from the portfolio by the student", actor_id)
    piece.portfolio.pieces.remove(piece)
    db.session.flush()


def update_settings(portfolio: Portfolio, *, headline_en: str, headline_ja: str, show_email: bool,
                    show_student_number: bool, hidden: bool) -> None:
    portfolio.headline_en = _text(headline_en, HEADLINE_MAX, _("The English headline"))
    portfolio.headline_ja = _text(headline_ja, HEADLINE_MAX, _("The Japanese headline"))
    portfolio.show_email, portfolio.show_student_number, portfolio.hidden = show_email, show_student_number, hidden
    db.session.flush()


def create_link(portfolio: Portfolio, label: str, expires_in_days: int | None) -> PortfolioLink:
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise DomainError(_("A link can expire after 1 to %(n)d days, or never.", n=MAX_EXPIRY_DAYS))
    if sum(1 for x in portfolio.links if x.active(utcnow())) >= MAX_LINKS:
        raise DomainError(_("You have %(n)d active links. Revoke one you no longer need first.", n=MAX_LINKS))
    now = utcnow()
    link = PortfolioLink(token=secrets.token_urlsafe(24), label=_text(label, LABEL_MAX, _("The label")),
                         created_at=now, expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    portfolio.links.append(link)
    db.session.flush()
    return link


def revoke_link(link: PortfolioLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()


def open_link(token: str, now: datetime | None = None) -> PortfolioLink | None:
    """The link behind a public address when it may be shown: not revoked, not expired, and its
    portfolio not hidden. Anything else is None (the page answers 404, whatever the reason)."""
    if not token or len(token) > 64:
        return None
    now = now or utcnow()
    link = db.session.scalar(select(PortfolioLink).where(PortfolioLink.token == token)
                             .options(joinedload(PortfolioLink.portfolio).joinedload(Portfolio.student)))
    if link is None or not link.active(now) or link.portfolio.hidden:
        return None
    return link


def link_shows_video(link_id: int, video_id: int) -> bool:
    """Whether this link may play this video now: the link is active and one of its portfolio's
    shown pieces is the video submission (the media route asks for every playlist and segment)."""
    link = db.session.get(PortfolioLink, link_id)
    if link is None or link.portfolio.hidden or not link.active(utcnow()):
        return False
    return db.session.execute(_eligible().with_only_columns(Submission.id)
                              .join(PortfolioPiece, PortfolioPiece.submission_id == Submission.id)
                              .where(PortfolioPiece.portfolio_id == link.portfolio_id,
                                     Submission.student_id == link.portfolio.student_id,
                                     Submission.video_id == video_id).limit(1)).first() is not None


def count_view(link: PortfolioLink) -> None:
    """One more view, counted in the database (two viewers at once both count)."""
    db.session.execute(update(PortfolioLink).where(PortfolioLink.id == link.id)
                       .values(views=PortfolioLink.views + 1, last_viewed_at=utcnow()))


def shown_pieces(portfolio: Portfolio) -> list[Shown]:
    """The pieces a viewer sees, in order, each still eligible (checked again now)."""
    rows = db.session.execute(
        _eligible().add_columns(PortfolioPiece, Assignment, Offering, Course)
        .join(PortfolioPiece, PortfolioPiece.submission_id == Submission.id)
        .join(Offering, Offering.id == Assignment.offering_id).join(Course, Course.id == Offering.course_id)
        .where(PortfolioPiece.portfolio_id == portfolio.id, Submission.student_id == portfolio.student_id)
        .options(selectinload(Submission.files), selectinload(Submission.build), joinedload(Course.partner))
        .order_by(PortfolioPiece.position, PortfolioPiece.id))
    shown = []
    for submission, grade, piece, assignment, offering, course in rows:
        final = apply_penalty(grade.raw_score, grade.penalty_percent, assignment.floor_percent) \
            if piece.show_grade else None
        feedback = None
        if piece.show_feedback and assignment.portfolio_feedback and grade.comment.strip():
            text = grade.comment.strip()
            feedback = text if len(text) <= FEEDBACK_EXCERPT else text[:FEEDBACK_EXCERPT].rstrip() + "…"
        shown.append(Shown(piece, submission, assignment, course, offering, final, feedback))
    return shown


def stamp(portfolio: Portfolio) -> tuple:
    """Everything the public page shows that can change, in one lean statement: each piece still
    eligible with the times its piece, grade, assignment, course, partner and build last changed,
    and its credential. Equal stamps mean an equal page (for one language), so the rendered page
    can be reused (lms/portfolio/public.py). Files are not in it: a submission's files never change."""
    from lms.assignments.models import GameBuild
    from lms.catalog.models import PartnerUniversity

    rows = db.session.execute(
        select(PortfolioPiece.id, PortfolioPiece.updated_at, PortfolioPiece.credential_id, Grade.updated_at,
               Assignment.updated_at, Course.updated_at, PartnerUniversity.updated_at, GameBuild.updated_at)
        .select_from(Submission).join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Grade, and_(Grade.assignment_id == Submission.assignment_id, Grade.student_id == Submission.student_id))
        .join(PortfolioPiece, PortfolioPiece.submission_id == Submission.id)
        .join(Offering, Offering.id == Assignment.offering_id).join(Course, Course.id == Offering.course_id)
        .outerjoin(PartnerUniversity, PartnerUniversity.id == Course.partner_id)
        .outerjoin(GameBuild, GameBuild.submission_id == Submission.id)
        .where(PortfolioPiece.portfolio_id == portfolio.id, Submission.student_id == portfolio.student_id,
               Assignment.released_at.is_not(None), Grade.raw_score.is_not(None),
               or_(Grade.submission_id == Submission.id, Grade.submission_id.is_(None)))
        .order_by(PortfolioPiece.position, PortfolioPiece.id)).all()
    student = portfolio.student
    return (portfolio.id, portfolio.updated_at, student.name_latin, student.name_kana, student.email,
            student.student_number, tuple(tuple(r) for r in rows))


def public_portfolios() -> list[tuple[Portfolio, int, int]]:
    """For the registrar: every portfolio that can be seen now, with its active links and views."""
    now = utcnow()
    active = and_(PortfolioLink.revoked_at.is_(None),
                  or_(PortfolioLink.expires_at.is_(None), PortfolioLink.expires_at > now))
    rows = db.session.execute(
        select(Portfolio, func.count(PortfolioLink.id), func.coalesce(func.sum(PortfolioLink.views), 0))
        .join(PortfolioLink, and_(PortfolioLink.portfolio_id == Portfolio.id, active))
        .where(Portfolio.hidden.is_(False)).group_by(Portfolio.id)
        .options(selectinload(Portfolio.student)))
    return [(p, n, int(views)) for p, n, views in rows]
