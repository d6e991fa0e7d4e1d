"""The proof on each portfolio piece: an Open Badges 3.0 AchievementCredential, signed by JDU,
saying that this student submitted this work in this course and that it was graded there. Its
evidence is the work's SHA-256 (of each file, the build archive, the video's original, or the
text or link itself), so an employer holding the file can check it is the one that was graded.

The score is not in it: the student decides per piece whether a viewer sees the score, and a
signed document cannot change. Signing runs in the worker (job PORTFOLIO_CREDENTIALS), between
short transactions: hashing a large build and the RDF canonicalization take no transaction along.
A credential is revoked when its piece leaves the portfolio; when the piece goes with its submission
(deleted, or its assignment deleted: a database cascade, no code runs), the hourly sweep below
revokes it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.assignments.models import Assignment, Submission
from lms.catalog.models import Course, Offering
from lms.credentials import services as credentials
from lms.credentials.models import WORK, IssuedCredential
from lms.extensions import db
from lms.jobs import queue, schedule
from lms.jobs.worker import JobContext, handler
from lms.portfolio.models import PortfolioPiece
from lms.records.clr import OB_CONTEXTS, OB_SCHEMA, _identifier, alignments, stamp
from lms.storage import get_storage

PORTFOLIO_CREDENTIALS = "portfolio_credentials"
ORPHAN_SWEEP = "portfolio_orphan_sweep"
HASH_CHUNK = 1024 * 1024


@dataclass
class _Work:
    """What a credential says, read in one short transaction."""

    piece_id: int
    student_id: int
    document: dict
    build_key: str | None  # hashed outside any transaction, then added to the evidence


def enqueue(piece_ids: list[int]) -> None:
    if piece_ids:
        queue.enqueue(PORTFOLIO_CREDENTIALS, {"piece_ids": sorted(piece_ids)}, max_attempts=5)


def revoke_for(piece: PortfolioPiece, reason: str, actor_id: int | None) -> None:
    if piece.credential_id:
        row = db.session.get(IssuedCredential, piece.credential_id)
        if row is not None and row.revoked_at is None:
            credentials.revoke(row, reason, actor_id)


def _origin() -> str:
    return current_app.config["APP_ORIGIN"].rstrip("/")


def _evidence(submission: Submission) -> list[dict]:
    receipt = f"{_origin()}/submissions/{submission.id}"
    def item(name: str, digest: str, genre: str) -> dict:
        return {"id": f"{receipt}#{genre}-{len(name)}-{digest[:12]}", "type": ["Evidence"], "name": name,
                "description": f"SHA-256 {digest}", "genre": genre}
    if submission.kind == "files":
        return [item(f.filename, f.sha256, "file") for f in submission.files]
    if submission.kind == "text":
        return [item("text", hashlib.sha256((submission.text or "").encode("utf-8")).hexdigest(), "text")]
    if submission.kind == "link":
        url = submission.url or ""
        return [{**item(url, hashlib.sha256(url.encode("utf-8")).hexdigest(), "link"), "id": url or receipt}]
    if submission.kind == "video" and submission.video_id:
        from lms.video.models import Video

        video = db.session.get(Video, submission.video_id)
        if video is not None and video.original_sha256:
            return [item("video", video.original_sha256, "video")]  # its file name is for staff only
    return []  # a game build's archive is hashed by the job, outside the transaction


def _document(piece: PortfolioPiece, submission: Submission, assignment: Assignment, course: Course) -> dict:
    partner = course.partner.name_en if course.partner else None
    where = f"{course.code} {course.title_en}" + (f", taught with {partner}" if partner else "")
    return {
        "@context": OB_CONTEXTS, "type": ["VerifiableCredential", "AchievementCredential"],
        "name": f"{course.code}: {assignment.title}",
        "credentialSubject": {
            "type": ["AchievementSubject"], "identifier": _identifier(submission.student),
            "achievement": {
                "id": f"{_origin()}/achievements/assignments/{assignment.id}", "type": ["Achievement"],
                "achievementType": "Assignment", "name": assignment.title, "humanCode": course.code,
                "description": f"Graded work in {where}, Japan Digital University.",
                "criteria": {"narrative": "Submitted inside the course and graded by its instructor; "
                                          f"grades released {stamp(assignment.released_at)[:10]}."},
                "alignment": alignments(course.skills or []),
            },
            "activityEndDate": stamp(submission.submitted_at),
        },
        "evidence": _evidence(submission),
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def _todo(piece_ids: list[int]) -> list[_Work]:
    rows = db.session.execute(
        select(PortfolioPiece, Submission, Assignment, Course)
        .join(Submission, Submission.id == PortfolioPiece.submission_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Offering, Offering.id == Assignment.offering_id).join(Course, Course.id == Offering.course_id)
        .where(PortfolioPiece.id.in_(piece_ids), PortfolioPiece.credential_id.is_(None),
               Assignment.released_at.is_not(None))
        .options(selectinload(Submission.files), selectinload(Submission.build), selectinload(Submission.student),
                 selectinload(Course.partner)))
    return [_Work(piece.id, submission.student_id, _document(piece, submission, assignment, course),
                  submission.build.archive_key if submission.kind == "game" and submission.build else None)
            for piece, submission, assignment, course in rows]


def _sha256_of(key: str) -> str:
    digest = hashlib.sha256()
    with get_storage().open(key) as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@handler(PORTFOLIO_CREDENTIALS)
def issue_work_credentials(ctx: JobContext) -> None:
    todo = _todo(ctx.payload["piece_ids"])
    db.session.commit()
    for work in todo:  # no transaction open: reading a build archive can take a while
        if work.build_key:
            digest = _sha256_of(work.build_key)
            work.document["evidence"].append({
                "id": f"{work.document['credentialSubject']['achievement']['id']}#build-{digest[:12]}",
                "type": ["Evidence"], "name": "game build (zip)", "description": f"SHA-256 {digest}",
                "genre": "game"})
    prepared = []
    for work in todo:
        row = credentials.reserve(WORK, work.student_id)
        prepared.append((work.piece_id, row.id, credentials.prepare(work.document, row)))
    db.session.commit()
    signed = [(piece_id, row_id, credentials.sign(document)) for piece_id, row_id, document in prepared]
    for piece_id, row_id, document in signed:
        credentials.store(row_id, signed=document)
        piece = db.session.get(PortfolioPiece, piece_id)
        if piece is not None and piece.credential_id is None:
            piece.credential_id = row_id
        else:  # removed (or given a credential by another attempt) while this one was signing
            credentials.revoke(db.session.get(IssuedCredential, row_id), "Not shown in a portfolio", None)
    db.session.commit()


@handler(ORPHAN_SWEEP)
def revoke_orphans(ctx: JobContext) -> None:
    """Work credentials no piece points at any more, not yet revoked: revoked now."""
    linked = select(PortfolioPiece.credential_id).where(PortfolioPiece.credential_id.is_not(None))
    orphans = db.session.scalars(select(IssuedCredential).where(
        IssuedCredential.kind == WORK, IssuedCredential.revoked_at.is_(None),
        IssuedCredential.document.is_not(None), IssuedCredential.id.not_in(linked))).all()
    for row in orphans:
        credentials.revoke(row, "The work is no longer in the university's records", None)
    db.session.commit()


schedule.periodic(ORPHAN_SWEEP, 3600)
