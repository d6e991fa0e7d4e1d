"""Playable game builds: store the zip, check and extract it in a job, frame it from the sandbox.

The app itself never serves a build's files: `build_frame` gives an iframe source on
LMS_SANDBOX_ORIGIN (lms/sandbox), another host, so a build's scripts cannot reach the app's cookies
or call its API as the student. Services flush; the job step commits.
"""
from __future__ import annotations

import secrets
import uuid
from typing import BinaryIO
from urllib.parse import quote

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import update

from lms.assignments import zipcheck
from lms.assignments.models import BuildState, GameBuild, Submission
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState
from lms.jobs.attempts import publish_attempt
from lms.jobs.worker import Cancelled, JobContext, PermanentError, handler
from lms.messages import Message, later, shown
from lms.sandbox.tokens import build_token
from lms.storage import StorageError, get_storage

GAME_BUILD = "game_build"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty zip


def attach_build(submission: Submission, stream: BinaryIO, max_bytes: int) -> GameBuild:
    """Store the zip under a generated key, then add the GameBuild and its check job to the
    caller's transaction.

    Raises storage.TooLarge over `max_bytes`, or DomainError when the file is not a zip; nothing is
    kept then. The caller commits, and deletes `build.archive_key` from storage if the commit fails.
    """
    key = f"builds/archives/{uuid.uuid4().hex}.zip"
    get_storage().put_stream(key, stream, max_bytes=max_bytes, content_type="application/zip")
    return attach_stored_build(submission, key)


def attach_stored_build(submission: Submission, key: str) -> GameBuild:
    """A zip already in storage (sent in parts straight from the browser, or just streamed)."""
    storage = get_storage()
    if storage.read_range(key, 0, 4) not in ZIP_SIGNATURES:  # tell the student now, not after the queue
        storage.delete(key)
        raise DomainError(_("The build must be a .zip file with index.html inside. Zip the exported "
                            "web build folder and upload it again."))
    build = GameBuild(submission=submission, archive_key=key, state=BuildState.CHECKING)
    db.session.add(build)
    db.session.flush()
    build.job_id = queue.enqueue(GAME_BUILD, {"build_id": build.id}, max_attempts=3).id
    db.session.flush()
    return build


@handler(GAME_BUILD)
def check_build(ctx: JobContext) -> None:
    """Inspect the zip, extract it into a folder of its own, and publish it in one commit; or
    reject it with a reason the student can act on. A finished build is left alone."""
    build = db.session.get(GameBuild, ctx.payload["build_id"])
    if build is None or build.state != BuildState.CHECKING:
        return
    build_id, archive_key = build.id, build.archive_key
    storage = get_storage()
    limits = zipcheck.Limits.from_config(current_app.config)
    prefix = f"builds/{build_id}/attempt-{ctx.attempt}-{secrets.token_hex(4)}"

    def work() -> tuple[zipcheck.Inspection, zipcheck.Extracted]:
        with storage.local_file(archive_key) as archive, storage.output_dir(prefix) as folder:
            inspection = zipcheck.inspect(archive, limits)
            ctx.check()
            extracted = zipcheck.extract(archive, inspection, folder, limits, check=ctx.check)
            ctx.check()
        return inspection, extracted

    def publish_build(done: tuple[zipcheck.Inspection, zipcheck.Extracted]) -> bool:
        inspection, extracted = done
        return publish(db.session.get(GameBuild, build_id), job_id=ctx.job_id, worker_id=ctx.worker_id,
                       prefix=prefix, entry=inspection.entry, extracted=extracted)

    try:
        publish_attempt(ctx, work, publish_build, prefix=prefix, parent=f"builds/{build_id}")
    except (zipcheck.BuildRejected, StorageError) as exc:  # rolled back and removed already
        reason = exc.message if isinstance(exc, zipcheck.BuildRejected) else \
            later("The uploaded zip is missing. Submit the build again.")
        _reject_and_stop(ctx, db.session.get(GameBuild, build_id), reason)


def _reject_and_stop(ctx: JobContext, build: GameBuild, reason: Message) -> None:
    if not reject(build, reason, job_id=ctx.job_id, worker_id=ctx.worker_id):
        db.session.rollback()
        raise Cancelled()
    db.session.commit()
    get_storage().delete_prefix(f"builds/{build.id}")  # nothing of a rejected build is ever served
    raise PermanentError(str(reason))


def _still_mine(job_id: int, worker_id: str) -> bool:
    """A worker whose lease was taken over must not write the outcome: each build settles once."""
    return bool(db.session.execute(
        update(Job).where(Job.id == job_id, Job.worker_id == worker_id, Job.state == JobState.RUNNING)
        .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount)


def publish(build: GameBuild, *, job_id: int, worker_id: str, prefix: str, entry: str,
            extracted: zipcheck.Extracted) -> bool:
    """Point the build at its extracted files, in the caller's transaction. False (and nothing
    changed) when this worker no longer holds the job."""
    if not _still_mine(job_id, worker_id):
        return False
    build.prefix, build.entry = prefix, entry
    build.file_count, build.total_bytes = extracted.file_count, extracted.total_bytes
    build.state, build.error = BuildState.READY, None
    db.session.flush()
    return True


def reject(build: GameBuild, reason: Message, *, job_id: int, worker_id: str) -> bool:
    """Record why the build was refused, in the caller's transaction. False when this worker no
    longer holds the job."""
    if not _still_mine(job_id, worker_id):
        return False
    build.state, build.error, build.prefix, build.entry = BuildState.REJECTED, reason.stored(), None, None
    db.session.flush()
    return True


def status(build: GameBuild) -> dict:
    """What people see: checking, ready, or rejected with a reason. A job that gave up without
    rejecting (its worker was killed each time) shows as rejected, never as checking forever."""
    if build.state == BuildState.READY:
        return {"state": "ready", "error": None}
    if build.state == BuildState.REJECTED:
        return {"state": "rejected", "error": shown(build.error)}
    job = db.session.get(Job, build.job_id) if build.job_id else None
    if job is None or job.state == JobState.DEAD:
        return {"state": "rejected",
                "error": _("We could not check this build because of a problem on our side. Submit it "
                           "again, or tell your instructor.")}
    return {"state": "checking", "error": None}


def build_frame(build: GameBuild | None, user) -> dict | None:
    """The iframe for a ready build, served from the sandbox origin; None otherwise.

    The URL is signed for this user and expires after BUILD_URL_MAX_AGE. It checks no permission:
    the caller has already decided that `user` may see the submission.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    return _frame(build, user.id)


PUBLIC_VIEWER = 0  # the user id in a build token for someone who is not logged in (a portfolio viewer)


def public_build_frame(build: GameBuild | None) -> dict | None:
    """build_frame for a public portfolio page: same sandbox origin, same expiry, no account.
    The caller has checked that the portfolio link is active and shows this build's submission."""
    return _frame(build, PUBLIC_VIEWER)


def _frame(build: GameBuild | None, viewer_id: int) -> dict | None:
    if build is None or build.state != BuildState.READY or not build.entry or not build.prefix:
        return None
    origin = current_app.config["SANDBOX_ORIGIN"]
    token = build_token(build.id, build.submission_id, viewer_id)
    return {"src": f"{origin}/b/{token}/{quote(build.entry, safe='/')}", "origin": origin,
            "title": _("Playable game build")}


def register(app: Flask) -> None:
    """Importing this module registers the job handler; templates get the frame and the status."""
    app.jinja_env.globals["build_frame"] = build_frame
    app.jinja_env.globals["public_build_frame"] = public_build_frame
    app.jinja_env.globals["build_status"] = status
