"""A student's portfolio: the pieces they chose (each one of their released, graded submissions)
and the public links they share it by. Nothing here copies a submission: a piece points at it, so
a deleted submission leaves every portfolio with it (ON DELETE CASCADE)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TimestampMixin, UTCDateTime, utcnow
from lms.extensions import db

TITLE_MAX, DESCRIPTION_MAX, HEADLINE_MAX, LABEL_MAX = 200, 2000, 200, 100


class Portfolio(TimestampMixin, db.Model):
    __tablename__ = "portfolios"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    headline_en: Mapped[str] = mapped_column(String(HEADLINE_MAX), default="")
    headline_ja: Mapped[str] = mapped_column(String(HEADLINE_MAX), default="")
    hidden: Mapped[bool] = mapped_column(default=False)  # the student's "hide everything" switch
    show_email: Mapped[bool] = mapped_column(default=False)  # private unless the student opts in
    show_student_number: Mapped[bool] = mapped_column(default=False)

    student: Mapped["User"] = relationship()  # noqa: F821
    pieces: Mapped[list[PortfolioPiece]] = relationship(
        back_populates="portfolio", order_by="PortfolioPiece.position, PortfolioPiece.id",
        cascade="all, delete-orphan", passive_deletes=True)
    links: Mapped[list[PortfolioLink]] = relationship(
        back_populates="portfolio", order_by="PortfolioLink.created_at.desc(), PortfolioLink.id.desc()",
        cascade="all, delete-orphan", passive_deletes=True)


class PortfolioPiece(TimestampMixin, db.Model):
    __tablename__ = "portfolio_pieces"
    __table_args__ = (UniqueConstraint("portfolio_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    title_en: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    title_ja: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitized when shown
    description_ja: Mapped[str] = mapped_column(Text, default="")
    show_grade: Mapped[bool] = mapped_column(default=False)
    show_feedback: Mapped[bool] = mapped_column(default=False)  # and only where the instructor allows it
    # The signed proof (lms/portfolio/proof.py): issued by a job once the piece is added.
    credential_id: Mapped[str | None] = mapped_column(ForeignKey("issued_credentials.id"))

    portfolio: Mapped[Portfolio] = relationship(back_populates="pieces")
    submission: Mapped["Submission"] = relationship()  # noqa: F821


class PortfolioLink(db.Model):
    """A public address of the portfolio. The token is the only credential (like a calendar feed's),
    kept so its owner can copy it again or print its QR code; revoking or expiring it ends access."""

    __tablename__ = "portfolio_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(LABEL_MAX), default="")  # e.g. "CV for Digital Knowledge"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    views: Mapped[int] = mapped_column(default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    portfolio: Mapped[Portfolio] = relationship(back_populates="links")

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
