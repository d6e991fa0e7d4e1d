"""Cohort transcript export as a background job: every student of a program and cohort year in one
file (CSV, a zip of one signed CLR 2.0 file per student, or a zip of PDFs each with the /verify link
of its signed CLR), written to storage with progress.

Signing never happens inside an open transaction: per batch of students the credentials' status
bits are reserved and committed, the CLRs are signed (VC-JOSE, no database), then stored and
committed; a restart in between costs at most a batch of unused status bits.

The job row is the export's only record: its payload says what to export and who asked, and the file
lives at a key derived from the job id, so no table of its own is needed.

PDFs are rendered in a pool of processes (LMS_EXPORT_PROCESSES, default and at most the CPU count):
WeasyPrint is pure Python for the most part, so a process per core is what divides a cohort's wall
time. The parent computes the records and the HTML (in the app, with its database session) and the
children only turn HTML into PDF bytes, so they need no app, no database connection and no fonts
beyond WeasyPrint's own.
"""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import io
import multiprocessing
import os
import tempfile
import zipfile
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

from flask import current_app

from lms.catalog.models import Program
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job
from lms.jobs.outage import retry_through_outage
from lms.jobs.worker import Cancelled, JobContext, PermanentError, handler
from lms.credentials import services as credentials
from lms.credentials.models import CLR
from lms.records import clr, exports, issuing
from lms.records.pause_gc import paused_gc
from lms.storage import get_storage

TRANSCRIPT_EXPORT = "transcript_export"
FORMATS = {  # format -> (file extension, media type)
    "csv": ("csv", "text/csv; charset=utf-8"),
    "clr": ("zip", "application/zip"),
    "json": ("json", "application/json"),  # exports made before CLRs were signed; no longer written
    "pdf": ("zip", "application/zip"),
}
MAX_EXPORT_BYTES = 4 * 1024 ** 3
SIGN_BATCH = 100  # students whose CLRs are reserved, signed and stored together
IN_FLIGHT_PER_PROCESS = 2  # PDFs queued per process: keeps each busy while bounding memory


class SignedClr(NamedTuple):
    id: str  # the credential's id: its /verify link
    token: str  # the compact JWS


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
    suffix = {"pdf": "pdf.zip", "clr": "clr.zip"}.get(job.payload["format"], FORMATS[job.payload["format"]][0])
    return f"transcripts-{code}-{job.payload['cohort_year']}.{suffix}"


def _transcripts(ctx: JobContext, student_ids: list[int]):
    """Transcripts one by one; the session is emptied between batches so a cohort of any size runs
    in bounded memory."""
    for done, item in enumerate(exports.transcripts(student_ids)):
        ctx.check()
        yield item
        if (done + 1) % 200 == 0:
            db.session.expunge_all()  # one batch at a time in memory, whatever the cohort's size


def _each(ctx: JobContext, student_ids: list[int]):
    """Transcripts one by one, reporting progress as each is written."""
    for done, item in enumerate(_transcripts(ctx, student_ids)):
        yield item
        ctx.report((done + 1) / max(1, len(student_ids)))


def write_csv(ctx: JobContext, student_ids: list[int], out) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    exports.write_csv(text, _each(ctx, student_ids))
    text.flush()
    text.detach()


def _signed(ctx: JobContext, student_ids: list[int]):
    """(transcript, its signed CLR or None when nothing is finalized), a batch at a time."""
    batch: list[exports.Transcript] = []
    for n, item in enumerate(_transcripts(ctx, student_ids)):
        batch.append(item)
        if len(batch) == SIGN_BATCH or n + 1 == len(student_ids):
            yield from zip(batch, _sign_batch(batch))
            batch = []


@contextlib.contextmanager
def _kept_after_commit():
    """The batch's students and records are read-only here: committing need not expire them (which
    would reload every student one query at a time when the file names are written)."""
    session = db.session()
    before, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = before


def _sign_batch(items: list[exports.Transcript]) -> list[SignedClr | None]:
    reserved: list[tuple[str, dict] | None] = []
    shared: dict = {}  # each course's Achievement, built once for the batch
    badges = issuing.signed_badges(items)
    with _kept_after_commit(), paused_gc():
        for item in items:
            try:
                document = clr.clr_document(item, badges, shared)
            except clr.NothingToCertify:
                reserved.append(None)
                continue
            row = credentials.reserve(CLR, item.student.id)
            reserved.append((row.id, credentials.prepare(document, row)))
        db.session.commit()
        key = credentials.current_key()  # read from its file once per batch
        signed = [None if r is None else SignedClr(r[0], credentials.sign_jose(r[1], key)) for r in reserved]
        credentials.store_tokens({s.id: s.token for s in signed if s})
        db.session.commit()
    return signed


def write_clr_zip(ctx: JobContext, student_ids: list[int], out) -> None:
    """One signed CLR (VC-JOSE compact JWS) per student; students with nothing finalized yet are
    listed in README.txt instead, since an empty CLR is invalid."""
    skipped = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, (item, row) in enumerate(_signed(ctx, student_ids)):
            if row is None:
                skipped.append(item.student.student_number or str(item.student.id))
            else:
                archive.writestr(f"transcript-{item.student.student_number or item.student.id}.clr.jwt", row.token)
            ctx.report((n + 1) / max(1, len(student_ids)))
        note = ["Signed CLR 2.0 transcripts (VC-JOSE, application/vc+jwt), one per student.",
                "Check any of them at the issuer's /verify page or with `flask lms credentials verify FILE`."]
        if skipped:
            note += ["", "No finalized results yet, so no transcript was signed for:", *skipped]
        archive.writestr("README.txt", "\n".join(note) + "\n")


def pdf_processes() -> int:
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, int(current_app.config.get("EXPORT_PROCESSES") or cpus)))


def _pdf_name(item: exports.Transcript) -> str:
    return f"transcript-{item.student.student_number or item.student.id}.pdf"


def _pdfs_in_pool(ctx: JobContext, student_ids: list[int], processes: int):
    """(name, PDF) in the cohort's order, rendered by `processes` worker processes. At most
    IN_FLIGHT_PER_PROCESS PDFs per process are queued; progress counts PDFs done; a cancelled job
    (SIGTERM, or the job taken over) stops queueing and leaves once the running renders end."""
    from lms.records import pdf_render
    from lms.records.exports_pdf import transcript_html

    # spawn, not fork: the job's heartbeat thread runs in this process, and forking a threaded
    # process can deadlock the child (Python 3.12 warns). A child imports only pdf_render (~0.4 s).
    pool = concurrent.futures.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=pdf_render.pool_process_init)
    pending: collections.deque = collections.deque()
    done = 0

    def oldest():
        nonlocal done
        name, future = pending.popleft()
        while True:  # wake up to honour a cancellation even if a render hangs
            try:
                pdf = future.result(timeout=1)
                break
            except concurrent.futures.TimeoutError:
                ctx.check()
        done += 1
        ctx.report(done / max(1, len(student_ids)))
        return name, pdf

    try:
        for item, row in _signed(ctx, student_ids):
            html = transcript_html(item, verify_url=issuing.verify_url(row) if row else None)
            pending.append((_pdf_name(item), pool.submit(pdf_render.html_to_pdf, html)))
            if len(pending) >= processes * IN_FLIGHT_PER_PROCESS:
                yield oldest()
        while pending:
            ctx.check()
            yield oldest()
    except BrokenProcessPool:
        if ctx.cancel.is_set():  # a signal to the whole process group ended the children too
            raise Cancelled() from None
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # no worker process outlives the job


def write_pdf_zip(ctx: JobContext, student_ids: list[int], out) -> None:
    from lms.records.exports_pdf import render_pdf

    processes = pdf_processes()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if processes > 1 and len(student_ids) > 1:
            for name, pdf in _pdfs_in_pool(ctx, student_ids, processes):
                archive.writestr(name, pdf)
        else:  # one core: starting a process would only add its start-up
            for n, (item, row) in enumerate(_signed(ctx, student_ids)):
                archive.writestr(_pdf_name(item), render_pdf(item, issuing.verify_url(row) if row else None))
                ctx.report((n + 1) / max(1, len(student_ids)))


WRITERS = {"csv": write_csv, "clr": write_clr_zip, "pdf": write_pdf_zip}


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
    from lms.notifications.jobs import record

    def notify() -> None:
        # Its own job, which waits until this one is recorded done: the link then downloads at once.
        record("export_ready", job_id=ctx.job_id)
        db.session.commit()

    retry_through_outage(notify, what=f"queueing export {ctx.job_id}'s notification", stop=ctx.cancel)
