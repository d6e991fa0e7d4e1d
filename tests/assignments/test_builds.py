"""Game builds end to end in the app: attach → job → READY or REJECTED, the frame, the app's CSP."""
from __future__ import annotations

import io
import zipfile

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from lms.assignments import builds
from lms.assignments.models import BuildState, GameBuild
from lms.errors import DomainError
from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState
from lms.sandbox.tokens import read_build_token
from lms.storage import TooLarge, get_storage
from tests.sandbox.helpers import attach, game_submission, make_zip, run_jobs, unity_files


def _files_under(app, prefix: str) -> list[str]:
    root = get_storage().path(prefix)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_unity_build_is_checked_extracted_and_ready(app, make):
    submission = game_submission(make)
    build = attach(submission, make_zip(unity_files()))
    assert build.state == BuildState.CHECKING and build.job_id
    assert run_jobs(app) == 1
    build = db.session.get(GameBuild, build.id)
    assert build.state == BuildState.READY and build.error is None
    assert build.entry == "index.html"
    assert build.prefix.startswith(f"builds/{build.id}/attempt-1-")
    assert build.file_count == len(unity_files())
    assert build.total_bytes == sum(map(len, unity_files().values()))
    assert _files_under(app, build.prefix) == sorted(unity_files())
    assert db.session.get(Job, build.job_id).state == JobState.DONE
    assert get_storage().exists(build.archive_key)  # the original is kept for the instructor


def test_a_build_in_one_top_folder_keeps_its_folder(app, make):
    build = attach(game_submission(make), make_zip(unity_files(), folder="MyGame/"))
    run_jobs(app)
    db.session.refresh(build)
    assert build.state == BuildState.READY and build.entry == "MyGame/index.html"


@pytest.mark.parametrize("files, reason", [
    ({"index.html": b"x", "../escape.js": b"y"}, "unsafe path"),
    ({"game.html": b"x"}, "no index.html"),
    ({"index.html": b"x", "Build/big.data": b"\0" * 4 * 1024**2}, "compressed more than 100:1"),
])
def test_a_bad_build_is_rejected_with_a_reason_and_nothing_extracted(app, make, files, reason):
    build = attach(game_submission(make), make_zip(files))
    run_jobs(app)
    db.session.refresh(build)
    assert build.state == BuildState.REJECTED
    assert reason in builds.status(build)["error"]
    assert build.prefix is None and build.entry is None
    job = db.session.get(Job, build.job_id)
    assert job.state == JobState.DEAD and job.attempts == 1  # permanent: never retried
    assert reason in job.last_error
    assert _files_under(app, f"builds/{build.id}") == []
    assert builds.status(build)["state"] == "rejected"


def test_the_reason_a_job_wrote_is_read_in_the_students_language(app, make):
    build = attach(game_submission(make), make_zip({"game.html": b"x"}))
    run_jobs(app)
    db.session.refresh(build)
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        reason = builds.status(build)["error"]
    assert "index.html" in reason and "zip" in reason and reason.isascii() is False, reason


def test_limits_come_from_the_configuration(app, make):
    app.config["BUILD_MAX_ENTRIES"] = 3
    build = attach(game_submission(make), make_zip(unity_files()))
    run_jobs(app)
    db.session.refresh(build)
    assert build.state == BuildState.REJECTED and "the limit is 3" in builds.status(build)["error"]


def test_over_the_upload_cap_nothing_is_kept(app, make):
    submission = game_submission(make)
    with pytest.raises(TooLarge):
        builds.attach_build(submission, io.BytesIO(make_zip(unity_files())), max_bytes=100)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(GameBuild)) == 0
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert _files_under(app, "builds") == []


def test_a_file_that_is_not_a_zip_is_refused_at_once(app, make):
    submission = game_submission(make)
    with pytest.raises(DomainError, match=r"\.zip file"):
        builds.attach_build(submission, io.BytesIO(b"<html>not zipped</html>"), max_bytes=10**6)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(GameBuild)) == 0
    assert _files_under(app, "builds") == []


def test_the_job_runs_again_without_changing_a_ready_build(app, make):
    build = attach(game_submission(make), make_zip(unity_files()))
    run_jobs(app)
    db.session.refresh(build)
    before = (build.prefix, build.entry, build.file_count, build.total_bytes, build.updated_at)
    queue.enqueue(builds.GAME_BUILD, {"build_id": build.id})
    db.session.commit()
    assert run_jobs(app) == 1
    db.session.refresh(build)
    assert (build.prefix, build.entry, build.file_count, build.total_bytes, build.updated_at) == before
    assert get_storage().list_prefixes(f"builds/{build.id}") == [build.prefix]


def test_a_worker_that_lost_its_job_publishes_nothing(app, make):
    build = attach(game_submission(make), make_zip(unity_files()))
    job_id = queue.claim("worker-a", 30)
    db.session.commit()
    extracted = builds.zipcheck.Extracted(file_count=1, total_bytes=1)
    assert not builds.publish(build, job_id=job_id, worker_id="worker-b", prefix="builds/x", entry="index.html",
                              extracted=extracted)
    assert not builds.reject(build, "no", job_id=job_id, worker_id="worker-b")
    assert build.state == BuildState.CHECKING and build.prefix is None


def test_a_missing_archive_is_rejected(app, make):
    build = attach(game_submission(make), make_zip(unity_files()))
    get_storage().delete(build.archive_key)
    run_jobs(app)
    db.session.refresh(build)
    assert build.state == BuildState.REJECTED and "missing" in build.error


def test_status_never_stays_checking_after_the_job_gave_up(app, make):
    build = attach(game_submission(make), make_zip(unity_files()))
    assert builds.status(build)["state"] == "checking"
    db.session.get(Job, build.job_id).state = JobState.DEAD
    db.session.commit()
    status = builds.status(build)
    assert status["state"] == "rejected" and "problem on our side" in status["error"]


def test_build_frame_points_at_the_sandbox_origin_with_a_signed_token(app, make):
    submission = game_submission(make)
    viewer = submission.student
    build = attach(submission, make_zip(unity_files(), folder="My Game/"))
    assert builds.build_frame(build, viewer) is None  # still checking
    run_jobs(app)
    db.session.refresh(build)
    frame = builds.build_frame(build, viewer)
    prefix = "http://localhost:5001/b/"
    assert frame["src"].startswith(prefix) and frame["src"].endswith("/My%20Game/index.html")
    token = frame["src"][len(prefix):].split("/", 1)[0]
    claims = read_build_token(token)
    assert (claims.build_id, claims.submission_id, claims.user_id) == (build.id, submission.id, viewer.id)


def test_build_frame_follows_the_configured_origin(app_with):
    other = app_with(SANDBOX_ORIGIN="https://play.jdu-games.example/")
    assert other.config["SANDBOX_ORIGIN"] == "https://play.jdu-games.example"
    response = other.test_client().get("/login")
    assert "frame-src https://play.jdu-games.example;" in response.headers["Content-Security-Policy"]


def test_the_app_csp_frames_only_the_sandbox_and_is_never_framed(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "frame-src http://localhost:5001;" in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp


PARTIAL = '{% include "assignments/_build_frame.html" %}'


def _render(build, frame) -> str:
    return render_template_string(PARTIAL, build=build, frame=frame)


def test_the_partial_frames_a_ready_build_without_same_origin(app, make):
    submission = game_submission(make)
    build = attach(submission, make_zip(unity_files()))
    run_jobs(app)
    db.session.refresh(build)
    with app.test_request_context():
        html = _render(build, builds.build_frame(build, submission.student))
    assert '<iframe class="game-frame" src="http://localhost:5001/b/' in html
    assert 'sandbox="allow-scripts allow-pointer-lock"' in html
    assert "allow-same-origin" not in html
    assert 'allow="fullscreen; gamepad; autoplay"' in html and 'referrerpolicy="no-referrer"' in html


def test_the_partial_shows_checking_and_an_escaped_reason(app, make):
    build = attach(game_submission(make), make_zip(unity_files()))
    with app.test_request_context():
        assert "Checking the build" in _render(build, None)
        build.state, build.error = BuildState.REJECTED, "The zip contains <script>alert(1)</script>."
        html = _render(build, None)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "<iframe" not in html
    db.session.rollback()


def test_attach_build_adds_the_build_and_job_in_the_callers_transaction(app, make):
    submission = game_submission(make)
    build = builds.attach_build(submission, io.BytesIO(make_zip(unity_files())), 10**6)
    db.session.rollback()  # the caller's commit failed: no row, no job
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert db.session.scalar(select(func.count()).select_from(GameBuild)) == 0
    get_storage().delete(build.archive_key)  # what the caller does then


def test_zip_written_by_the_helpers_is_a_real_zip():
    with zipfile.ZipFile(io.BytesIO(make_zip(unity_files()))) as archive:
        assert archive.testzip() is None
