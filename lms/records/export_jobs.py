"""Cohort transcript export as a background job: every student of a program and cohort year in one
file (CSV, a JSON array of CLR credentials, or a zip of PDFs), written to storage with progress.

The job row is the export's only record: its payload says what to export and who asked, and the file
lives at a key derived from the job id, so no table of its own is needed.
"""
from __future__ import annotations

import io
import json
import tempfile
import zipfile

from lms.catalog.models import Program
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job
from lms.jobs.worker import JobContext, PermanentError, handler
from lms.records import exports
from lms.storage import get_storage

TRANSCRIPT_EXPORT = "transcript_export"
FORMATS = {  # format -> (file extension, media type)
    "csv": ("csv", "text/csv; charset=utf-8"),
    "json": ("json", "application/json"),
    "pdf": ("zip", "application/zip"),
}
MAX_EXPORT_BYTES = 4 * 1024 ** 3


def start_export(program_id: int, cohort_year: int, fmt: str, actor_id: int) -> Job:
    """Queue an export in the caller's transaction. Raises ValueError for an unknown format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    return queue.enqueue(TRANSCRIPT_EXPORT, {"program_id": program_id, "cohort_year": cohort_year,
                                             "format": fmt, "actor_id": actor_id}, max_attempts=3)


def storage_key(job: Job) -> str:
    return f"exports/{job.id}.{FORMATS[job.payload['format']][0]}"


def media_type(job: Job) -> str:
    return FORMATS[job.payload["format"]][1]


def download_name(job: Job) -> str:
    program = db.session.get(Program, job.payload["program_id"])
    code = program.code if program else str(job.payload["program_id"])
    suffix = "pdf.zip" if job.payload["format"] == "pdf" else FORMATS[job.payload["format"]][0]
    return f"transcripts-{code}-{job.payload['cohort_year']}.{suffix}"


def _each(ctx: JobContext, student_ids: list[int]):
    """Transcripts one by one, reporting progress; the session is emptied between students so a
    cohort of any size runs in bounded memory."""
    for done, item in enumerate(exports.transcripts(student_ids)):
        ctx.check()
        yield item
        if (done + 1) % 200 == 0:
            db.session.expunge_all()  # one batch at a time in memory, whatever the cohort's size
        ctx.report((done + 1) / max(1, len(student_ids)))


def write_csv(ctx: JobContext, student_ids: list[int], out) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    exports.write_csv(text, _each(ctx, student_ids))
    text.flush()
    text.detach()


def write_json(ctx: JobContext, student_ids: list[int], out) -> None:
    out.write(b"[")
    for n, item in enumerate(_each(ctx, student_ids)):
        out.write((b",\n" if n else b"\n") + json.dumps(exports.clr_credential(item), ensure_ascii=False).encode())
    out.write(b"\n]\n")


def write_pdf_zip(ctx: JobContext, student_ids: list[int], out) -> None:
    from lms.records.exports_pdf import render_pdf

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in _each(ctx, student_ids):
            name = f"transcript-{item.student.student_number or item.student.id}.pdf"
            archive.writestr(name, render_pdf(item))


WRITERS = {"csv": write_csv, "json": write_json, "pdf": write_pdf_zip}


@handler(TRANSCRIPT_EXPORT)
def run_export(ctx: JobContext) -> None:
    payload = ctx.payload
    if payload.get("format") not in WRITERS:
        raise PermanentError(f"Unknown export format {payload.get('format')!r}.")
    student_ids = exports.cohort_student_ids(payload["program_id"], payload["cohort_year"])
    job = db.session.get(Job, ctx.job_id)
    key = storage_key(job)
    db.session.commit()  # end the read transaction: the export may take minutes
    with tempfile.TemporaryFile() as out:
        WRITERS[payload["format"]](ctx, student_ids, out)
        out.seek(0)
        get_storage().put_stream(key, out, max_bytes=MAX_EXPORT_BYTES)
    db.session.rollback()
