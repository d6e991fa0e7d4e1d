"""The transcript as a PDF (WeasyPrint), from the same `Transcript` as the CSV and the CLR JSON.

DejaVu Sans (Latin with Uzbek oʻ gʻ, Cyrillic) and Noto Sans CJK JP (Debian's fonts-noto-cjk, the
Japanese) cover every script, so no glyph falls back to a box. A FontConfiguration is kept per
process: WeasyPrint then loads and indexes the large CJK font once rather than for every transcript.
What else makes a PDF cheap is in the template's comments and in bench/README.md.
"""
from __future__ import annotations

import contextlib
import functools
import gc
from datetime import UTC, datetime

from flask import render_template

from lms.records.exports import Transcript, figure, transcript


@functools.cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@contextlib.contextmanager
def _without_cyclic_gc():
    """WeasyPrint allocates tens of thousands of small containers per transcript, so the cyclic
    collector keeps running and rescans every object of the app (~15 % of a PDF's time, measured).
    Paused for one render only; whoever paused it resumes it, so overlapping renders in threads
    leave it on."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def transcript_html(item: Transcript, *, now: datetime | None = None) -> str:
    return render_template("records/transcript_pdf.html", student=item.student, record=item.record,
                           totals=item.record.totals, figure=figure,
                           issued=(now or datetime.now(UTC)).date().isoformat())


def render_pdf(item: Transcript) -> bytes:
    from weasyprint import HTML

    html = transcript_html(item)
    with _without_cyclic_gc():
        return HTML(string=html).write_pdf(font_config=_fonts())


def student_pdf(student_id: int) -> bytes:
    return render_pdf(transcript(student_id))
