"""HTML to PDF with WeasyPrint, and nothing of the app: what the cohort export's worker processes
import (lms/records/export_jobs.py), so that starting one costs WeasyPrint's import, not Flask's.

A FontConfiguration is kept per process: WeasyPrint then loads and indexes the fonts once rather
than for every transcript.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import signal


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


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    with _without_cyclic_gc():
        return HTML(string=html).write_pdf(font_config=_fonts())


def pool_process_init() -> None:
    """In each export worker process: the job worker alone decides when to stop. Ctrl-C in a
    terminal reaches the whole process group, so SIGINT is ignored here (the parent cancels the job
    and shuts the pool down); SIGTERM keeps its default, so a process killed on its own just ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
