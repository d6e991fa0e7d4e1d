"""Signed credentials from the record: an Open Badges 3.0 AchievementCredential for each passed
course (issued by a job after finalization, re-issued after an amendment) and a CLR 2.0 transcript
for each export.

Badges are signed with a Data Integrity proof (eddsa-rdfc-2022: ~12 ms each, the RDF
canonicalization), so a finalized offering's badges are a job: no transaction stays open while they
are signed, and a restart costs nothing, since rows reserved but not yet signed are picked up again.
CLRs are signed as VC-JOSE (a compact JWS, ~1.4 ms for 40 courses, where a Data Integrity proof of
the whole transcript costs ~250 ms; bench/signing.py), and embed the signed badges.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from lms.auth.models import User

from lms.credentials import services as credentials
from lms.credentials.models import ACHIEVEMENT, CLR, IssuedCredential
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.worker import JobContext, handler
from lms.records import clr
from lms.records.exports import Transcript, transcript
from lms.records.models import FinalResult
from lms.records.record import student_records

COURSE_CREDENTIALS = "course_credentials"
BATCH = 50  # badges signed between two short transactions


def enqueue_badges(result_ids: list[int]) -> None:
    """Queue the badges of these finalized results, in the caller's transaction."""
    if result_ids:
        queue.enqueue(COURSE_CREDENTIALS, {"result_ids": sorted(result_ids)}, max_attempts=5)


def active_badges(result_ids: list[int]) -> dict[int, IssuedCredential]:
    """Result id → its signed, unrevoked badge (the newest, should there be several)."""
    out: dict[int, IssuedCredential] = {}
    for row in db.session.scalars(select(IssuedCredential).where(
            IssuedCredential.kind == ACHIEVEMENT, IssuedCredential.result_id.in_(result_ids or [0]),
            IssuedCredential.revoked_at.is_(None), IssuedCredential.document.is_not(None))
            .order_by(IssuedCredential.issued_at)):
        out[row.result_id] = row
    return out


def supersede_badge(result: FinalResult, reason: str, actor_id: int) -> None:
    """After an amendment: revoke the result's badge and queue a new one (if it still passes)."""
    for row in active_badges([result.id]).values():
        credentials.revoke(row, f"Superseded by an amendment: {reason}", actor_id)
    enqueue_badges([result.id])


def _unsigned_badges(result_ids: list[int]) -> list[tuple[int, int, dict]]:
    """(result id, student id, unsigned badge) for each passed result that has no badge yet."""
    results = db.session.scalars(select(FinalResult).where(FinalResult.id.in_(result_ids))).all()
    have = active_badges(result_ids)
    students = sorted({r.student_id for r in results})
    records = student_records(students, finalized_only=True)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(students)))}
    wanted = set(result_ids) - set(have)
    out = []
    for student_id in students:
        item = Transcript(users[student_id], records[student_id])
        for line in item.record.counted_lines:
            if line.result_id in wanted and line.ja_passed:
                out.append((line.result_id, student_id, clr.achievement_credential(item, line)))
    return out


def _reserved(result_id: int) -> IssuedCredential | None:
    """A row reserved by an attempt that stopped before it stored the signed badge."""
    return db.session.scalar(select(IssuedCredential).where(
        IssuedCredential.kind == ACHIEVEMENT, IssuedCredential.result_id == result_id,
        IssuedCredential.document.is_(None), IssuedCredential.token.is_(None), IssuedCredential.revoked_at.is_(None)))


@handler(COURSE_CREDENTIALS)
def issue_badges(ctx: JobContext) -> None:
    todo = _unsigned_badges(ctx.payload["result_ids"])
    db.session.commit()
    for start in range(0, len(todo), BATCH):
        ctx.check()
        batch = todo[start:start + BATCH]
        prepared = []
        for result_id, student_id, document in batch:  # short transaction: reserve the status bits
            row = _reserved(result_id) or credentials.reserve(ACHIEVEMENT, student_id, result_id)
            prepared.append((row.id, credentials.prepare(document, row)))
        db.session.commit()
        signed = [(row_id, credentials.sign(document)) for row_id, document in prepared]  # no transaction open
        for row_id, document in signed:
            credentials.store(row_id, signed=document)
        db.session.commit()
        ctx.report(min(1.0, (start + len(batch)) / max(1, len(todo))))


def signed_badges(items: list[Transcript]) -> dict[int, dict]:
    """Result id → its signed badge, for every counted result of these transcripts (one query)."""
    ids = [x.result_id for item in items for x in item.record.counted_lines if x.result_id]
    return {rid: row.document for rid, row in active_badges(ids).items()}


def signed_transcript(item: Transcript) -> IssuedCredential:
    """Issue the student's CLR (flushes; the caller commits). Raises clr.NothingToCertify."""
    document = clr.clr_document(item, signed_badges([item]))
    return credentials.issue(document, kind=CLR, student_id=item.student.id, proof="jose")


def student_clr(student_id: int) -> IssuedCredential:
    return signed_transcript(transcript(student_id))


def verify_url(row: IssuedCredential) -> str:
    """Where anyone checks the credential: printed (and as a QR code) on the PDF transcript."""
    return f"{current_app.config['APP_ORIGIN'].rstrip('/')}/verify/{row.id}"
