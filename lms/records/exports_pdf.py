"""The transcript as a PDF (WeasyPrint), from the same `Transcript` as the CSV and the CLR JSON.

DejaVu Sans (Latin with Uzbek oʻ gʻ, Cyrillic) and Noto Sans CJK JP (Debian's fonts-noto-cjk, the
Japanese) cover every script, so no glyph falls back to a box. Here the HTML is made (in the app);
pdf_render.py turns it into a PDF (also in the cohort export's worker processes). What makes a PDF
cheap is in pdf_columns.py, cjk_font.py, the template's comments and bench/README.md.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template

from lms.records import cjk_font
from lms.records.exports import Transcript, figure, transcript
from lms.records.pdf_columns import PX_PER_MM, Columns
from lms.records.pdf_render import html_to_pdf
from lms.records.record import Line

# Course table columns in tab stops of 4.2 mm (code, title, term, the seven figures, scheme and rule):
# A4 landscape less the page margins and the cell padding is 274.6 mm; the last column takes the rest.
COLUMNS = Columns([4, 14, 13, 2, 3, 2, 2, 3, 2, 5, 0], total_px=274.6 * PX_PER_MM)
HEADER = ["Code", "Course / 科目", "Term / 学期 / Semestr", "単位", "Score", "評価", "GP", "Kredit",
          "Baho", "Holat", "Scheme / rule"]


def course_row(x: Line) -> str:
    """A course as tabbed text: English on the first line, Japanese and Uzbek below."""
    return COLUMNS.lines([
        x.course_code, [x.title_en, x.title_ja],
        [x.term_name, f"{x.ja_year}年度 {x.ja_semester} · {x.uz_year} {x.uz_semester}-semestr"],
        figure(x.ja_credits), figure(x.raw), x.letter or ("認定" if x.recognised else ""),
        figure(x.gpa_points), figure(x.uz_credits), figure(x.uz_grade),
        x.state + (" (amended)" if x.amended else ""), [x.ja_scheme, x.credit_rule]])


def verify_qr(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=0)


def transcript_html(item: Transcript, *, now: datetime | None = None, verify_url: str | None = None) -> str:
    """`verify_url`: the /verify link of the signed CLR issued with this PDF, printed with its QR code."""
    return render_template("records/transcript_pdf.html", student=item.student, record=item.record,
                           totals=item.record.totals, figure=figure, header=COLUMNS.lines(HEADER),
                           rows=[course_row(x) for x in item.record.counted_lines],
                           pending_rows=[course_row(x) for x in item.record.pending_lines],
                           verify_url=verify_url, verify_qr=verify_qr(verify_url) if verify_url else None,
                           cjk_font=cjk_font.FONT.as_uri() if cjk_font.FONT.exists() else None,
                           cjk_family=cjk_font.FAMILY,
                           issued=(now or datetime.now(UTC)).date().isoformat())


def render_pdf(item: Transcript, verify_url: str | None = None) -> bytes:
    return html_to_pdf(transcript_html(item, verify_url=verify_url))


def student_pdf(student_id: int) -> bytes:
    return render_pdf(transcript(student_id))
