"""Assignments, extensions and submissions. Services flush; views commit.

A submission is stored file by file under generated keys; if anything fails, the files stored so
far are removed and nothing is flushed, so no half-written submission exists.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.filenames import display_name
from lms.assignments import late
from lms.assignments.filetypes import FileRejected, Prefixed, check, head_bytes
from lms.assignments.models import Assignment, Extension, Submission, SubmissionFile, SubmissionKind
from lms.db import prebuilt, utcnow
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.storage import TooLarge, get_storage
from lms.storage.spool import HashingSpool


class SubmissionClosed(DomainError):
    status = 403


@dataclass
class Upload:
    stream: BinaryIO | None
    filename: str
    key: str | None = None  # already in storage, sent in parts from the browser
    size: int = 0
    sha256: str | None = None


def deadline_for(assignment: Assignment, student_id: int) -> tuple[datetime, datetime | None, Extension | None]:
    """(due, cut-off, extension) that apply to this student."""
    extension = db.session.scalar(select(Extension).where(
        Extension.assignment_id == assignment.id, Extension.student_id == student_id))
    if extension is not None:
        cutoff = extension.cutoff_at or (max(extension.due_at, assignment.cutoff_at)
                                         if assignment.cutoff_at else None)
        return extension.due_at, cutoff, extension
    return assignment.due_at, assignment.cutoff_at, None


def attempts_used(assignment: Assignment, student_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Submission).where(
        Submission.assignment_id == assignment.id, Submission.student_id == student_id))


def grant_extension(assignment: Assignment, student_id: int, due_at: datetime, cutoff_at: datetime | None,
                    reason: str, granted_by_id: int) -> Extension:
    if cutoff_at is not None and cutoff_at < due_at:
        raise DomainError(_("The cut-off cannot be before the new due date."))
    extension = db.session.scalar(select(Extension).where(
        Extension.assignment_id == assignment.id, Extension.student_id == student_id))
    if extension is None:
        extension = Extension(assignment_id=assignment.id, student_id=student_id)
        db.session.add(extension)
    extension.due_at, extension.cutoff_at = due_at, cutoff_at
    extension.reason, extension.granted_by_id = reason, granted_by_id
    db.session.flush()
    return extension


def find_by_key(idempotency_key: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.idempotency_key == idempotency_key))


def submit(assignment: Assignment, student_id: int, kind: SubmissionKind, idempotency_key: str, *,
           text: str | None = None, url: str | None = None, files: list[Upload] = (),
           media: Upload | None = None, now: datetime | None = None) -> Submission:
    """Record one attempt. Returns the earlier submission when the same form is sent twice.

    Raises SubmissionClosed (cut-off passed, no attempts left), DomainError (kind not accepted,
    empty answer, rejected file) and storage.TooLarge (a file over the cap; nothing kept).
    """
    earlier = find_by_key(idempotency_key)
    if earlier is not None:
        if earlier.student_id != student_id or earlier.assignment_id != assignment.id:
            raise Conflict(_("This form was already used. Reload the page and submit again."))
        return earlier
    now = now or utcnow()
    due_at, cutoff_at, _extension = deadline_for(assignment, student_id)
    if cutoff_at is not None and now > cutoff_at:
        raise SubmissionClosed(_("The cut-off has passed; this assignment no longer accepts submissions."))
    used = attempts_used(assignment, student_id)
    if assignment.attempts_allowed and used >= assignment.attempts_allowed:
        raise SubmissionClosed(_("You have used all %(n)d attempts for this assignment.", n=assignment.attempts_allowed))
    if kind.value not in assignment.kinds:
        raise DomainError(_("This assignment does not accept this kind of submission."))
    seconds_late = late.late_seconds(now, due_at)
    submission = Submission(assignment_id=assignment.id, student_id=student_id, attempt=used + 1, kind=kind,
                            submitted_at=now, due_at=due_at, late_seconds=seconds_late,
                            penalty_percent=late.penalty_percent(seconds_late, late.LatePolicy.of(assignment)),
                            idempotency_key=idempotency_key)
    stored: list[str] = []
    try:
        _fill(submission, assignment, kind, text, url, files, media, stored)
        db.session.add(submission)
        db.session.flush()
        _attach_media(submission, assignment, kind, media, stored)
    except BaseException:
        for key in stored:
            get_storage().delete(key)
        raise
    return submission


def _fill(submission, assignment, kind, text, url, files, media, stored) -> None:
    if kind == SubmissionKind.TEXT:
        if not (text or "").strip():
            raise DomainError(_("Write your answer before submitting."))
        submission.text = text
    elif kind == SubmissionKind.LINK:
        if not (url or "").startswith(("https://", "http://")):
            raise DomainError(_("Give a link that starts with https://."))
        submission.url = url.strip()
    elif kind == SubmissionKind.FILES:
        uploads = [f for f in files if f.filename]
        if not uploads:
            raise DomainError(_("Choose at least one file."))
        for upload in uploads:
            submission.files.append(store_file(upload, assignment.allowed_extensions,
                                               assignment.max_file_bytes, stored))
    elif media is None or not media.filename:
        raise DomainError(_("Choose the file to upload."))


def _attach_media(submission, assignment, kind, media, stored) -> None:
    if kind == SubmissionKind.VIDEO:
        from lms.video.services import attach_stored, attach_upload

        if media.key:
            video = attach_stored(None, submission.student_id, media.key, media.filename, media.size, media.sha256)
        else:
            video = attach_upload(None, submission.student_id, media.stream, media.filename,
                                  assignment.max_file_bytes)
            stored.append(video.original_key)
        submission.video_id = video.id
    elif kind == SubmissionKind.GAME:
        from lms.assignments.builds import attach_build, attach_stored_build

        if media.key:
            build = attach_stored_build(submission, media.key)
        else:
            build = attach_build(submission, media.stream, assignment.max_file_bytes)
            stored.append(build.archive_key)
    db.session.flush()


def store_file(upload: Upload, allowed: list[str], max_bytes: int, stored: list[str]) -> SubmissionFile:
    """Check the content against the extension, then stream it to storage under a generated key."""
    head = upload.stream.read(head_bytes(upload.filename))
    try:
        media_type = check(upload.filename, head, allowed)
    except FileRejected as exc:
        raise DomainError(str(exc)) from None
    key = f"submissions/{uuid.uuid4().hex}"
    if isinstance(upload.stream, HashingSpool):  # parsed straight into storage's spool: adopt it
        if upload.stream.size > max_bytes:
            raise TooLarge(max_bytes)
        size, sha256 = get_storage().adopt(upload.stream, key, content_type=media_type)
    else:
        size, sha256 = get_storage().put_stream(key, Prefixed(head, upload.stream), max_bytes=max_bytes)
    stored.append(key)
    return SubmissionFile(storage_key=key, filename=display_name(upload.filename), size=size, sha256=sha256,
                          media_type=media_type)


def history(assignment: Assignment, student_id: int) -> list[Submission]:
    return list(db.session.scalars(select(Submission).where(
        Submission.assignment_id == assignment.id, Submission.student_id == student_id)
        .order_by(Submission.attempt.desc())))


@prebuilt
def _upcoming():
    from sqlalchemy import and_, bindparam, exists, literal_column

    from lms.catalog.models import Course, Enrollment, Offering
    from lms.db import UTCDateTime

    student = bindparam("student_id")
    due = func.coalesce(Extension.due_at, Assignment.due_at, type_=UTCDateTime()).label("due")
    submitted = exists().where(Submission.assignment_id == Assignment.id,
                               Submission.student_id == student).label("submitted")
    return (select(Assignment.id, Assignment.title, Course.code.label("course_code"), due, submitted)
            .join(Enrollment, and_(Enrollment.offering_id == Assignment.offering_id, Enrollment.student_id == student))
            .join(Offering, Offering.id == Assignment.offering_id).join(Course, Course.id == Offering.course_id)
            .outerjoin(Extension, and_(Extension.assignment_id == Assignment.id, Extension.student_id == student))
            .where(due.between(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())))
            .order_by(literal_column("due"), Assignment.id).limit(bindparam("limit")))


def upcoming_for(student_id: int, days: int = 14, limit: int = 8) -> list:
    """The student's deadlines from a day ago to `days` ahead, extensions applied, soonest first:
    rows of (id, title, course_code, due, submitted). One statement: the home page shows it to
    every student on every visit."""
    from datetime import timedelta

    now = utcnow()
    return db.session.execute(_upcoming(), {"student_id": student_id, "start": now - timedelta(days=1),
                                            "end": now + timedelta(days=days), "limit": limit}).all()
