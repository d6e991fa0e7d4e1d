"""Game-build helpers shared by tests/assignments/test_builds.py and tests/sandbox/: zips made with
zipfile, a game submission, and a worker run."""
from __future__ import annotations

import gzip
import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

from lms.assignments import builds
from lms.assignments.models import Assignment, GameBuild, Submission, SubmissionKind
from lms.auth.models import Role
from lms.extensions import db
from lms.jobs.worker import Worker

MARKER = b"SANDBOX-ONLY-MARKER-7f3a"
INDEX = b"<!doctype html><title>Game</title><script src='Build/x.loader.js'></script>" + MARKER
WASM = b"\x0b\x07\x80" + b"not-really-brotli-wasm" * 40  # bytes the sandbox must pass through untouched
FRAMEWORK_JS = b"var unityFramework = function () { return 42; };\n" * 20
DATA = bytes(range(256)) * 16


def unity_files() -> dict[str, bytes]:
    """The same bytes on every call (gzip without a timestamp), so tests can compare what is served."""
    return {
        "index.html": INDEX,
        "Build/x.loader.js": b"function createUnityInstance() {}\n",
        "Build/x.wasm.br": WASM,
        "Build/x.data.gz": gzip.compress(DATA, mtime=0),
        "Build/x.framework.js.gz": gzip.compress(FRAMEWORK_JS, mtime=0),
        "TemplateData/style.css": b"body { margin: 0 }\n",
    }


def make_zip(files: dict[str, bytes], folder: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return out.getvalue()


def game_submission(make, student=None) -> Submission:
    student = student or make.user(Role.STUDENT)
    offering = make.offering(students=[student])
    due = datetime.now(UTC) + timedelta(days=7)
    assignment = Assignment(offering_id=offering.id, title="Jam game", due_at=due, kinds=["game"])
    db.session.add(assignment)
    db.session.flush()
    submission = Submission(assignment_id=assignment.id, student_id=student.id, attempt=1,
                            kind=SubmissionKind.GAME, due_at=due, idempotency_key=uuid.uuid4().hex)
    db.session.add(submission)
    db.session.commit()
    return submission


def attach(submission: Submission, data: bytes, max_bytes: int = 10**8) -> GameBuild:
    build = builds.attach_build(submission, io.BytesIO(data), max_bytes)
    db.session.commit()
    return build


def run_jobs(app) -> int:
    count = Worker(app, lease_seconds=30, poll_seconds=0.1).run(drain=True)
    db.session.expire_all()
    return count
