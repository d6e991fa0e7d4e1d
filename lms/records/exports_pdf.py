"""The transcript as a PDF (WeasyPrint), from the same `Transcript` as the CSV and the CLR JSON.

One font, Noto Sans CJK JP (Debian's fonts-noto-cjk), covers Japanese, Uzbek Latin (oʻ gʻ) and
Cyrillic, so no glyph falls back to a box. A FontConfiguration is kept per process: WeasyPrint then
loads and indexes the large CJK font once rather than for every transcript.
"""
from __future__ import annotations

import functools
from datetime import UTC, datetime

from flask import render_template

from lms.records.exports import Transcript, figure, transcript


@functools.cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def transcript_html(item: Transcript, *, now: datetime | None = None) -> str:
    return render_template("records/transcript_pdf.html", student=item.student, record=item.record,
                           totals=item.record.totals, figure=figure,
                           issued=(now or datetime.now(UTC)).date().isoformat())


def render_pdf(item: Transcript) -> bytes:
    from weasyprint import HTML

    return HTML(string=transcript_html(item)).write_pdf(font_config=_fonts())


def student_pdf(student_id: int) -> bytes:
    return render_pdf(transcript(student_id))
