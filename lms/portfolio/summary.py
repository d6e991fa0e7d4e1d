"""The employer-facing one-page summary (A4, in Japanese): skills from the courses passed, credits
earned in both degrees, a recognised Japanese-language certificate if there is one, and the
portfolio's pieces with a thumbnail of their first image and a QR code to check each one."""
from __future__ import annotations

import base64
import io
import re

from flask import current_app, render_template, url_for
from flask_babel import force_locale

from lms.portfolio import services
from lms.portfolio.models import Portfolio
from lms.records import cjk_font
from lms.records.exports_pdf import verify_qr
from lms.records.record import student_record
from lms.storage import StorageError, get_storage

PIECES_ON_PAGE = 6  # what fits one A4 page beside the facts
THUMB_SOURCE_MAX = 8 * 1024 * 1024  # larger images get no thumbnail rather than a slow page
JAPANESE_LEVEL = re.compile(r"JLPT|日本語能力|Japanese[- ]Language Proficiency|\bN[1-5]\b", re.IGNORECASE)


def _thumbnail(key: str) -> str | None:
    """A small JPEG of a stored image as a data: URI (WeasyPrint embeds it), or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = get_storage().read_bytes(key, max_bytes=THUMB_SOURCE_MAX)
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((360, 220))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (StorageError, UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def summary_html(portfolio: Portfolio, link_url: str | None) -> str:
    record = student_record(portfolio.student_id, finalized_only=True)
    passed = [x for x in record.counted_lines if x.ja_passed or x.recognised]
    skills = list(dict.fromkeys(skill for line in passed for skill in line.skills))
    language = [x for x in record.counted_lines if x.recognised and JAPANESE_LEVEL.search(f"{x.title_en} {x.title_ja or ''}")]
    origin = current_app.config["APP_ORIGIN"].rstrip("/")
    pieces = []
    for item in services.shown_pieces(portfolio)[:PIECES_ON_PAGE]:
        image = next((f for f in item.submission.files if f.media_type.startswith("image/")), None)
        target = (f"{origin}{url_for('credentials.verify_issued', credential_id=item.piece.credential_id)}"
                  if item.piece.credential_id else link_url)
        pieces.append({"item": item, "thumb": _thumbnail(image.storage_key) if image else None,
                       "qr": verify_qr(target) if target else None, "target": target})
    with force_locale("ja"):
        return render_template("portfolio/summary_pdf.html", portfolio=portfolio, student=portfolio.student,
                               record=record, totals=record.totals, skills=skills, language=language,
                               pieces=pieces, more=max(0, len(services.shown_pieces(portfolio)) - PIECES_ON_PAGE),
                               link_url=link_url, link_qr=verify_qr(link_url) if link_url else None,
                               cjk_font=cjk_font.FONT.as_uri() if cjk_font.FONT.exists() else None,
                               cjk_family=cjk_font.FAMILY)

