"""Uploads: streamed under a cap, nothing kept when refused, only for the course's instructors."""
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.jobs.models import Job
from lms.video.models import Video
from tests.video.conftest import login


def originals(app) -> list[Path]:
    folder = Path(app.config["MEDIA_ROOT"]) / "videos" / "originals"
    return list(folder.iterdir()) if folder.exists() else []


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_oversized_upload_is_413_and_leaves_nothing(app, world):
    app.config["VIDEO_MAX_BYTES"] = 1000
    client = login(app, world.instructor)
    response = client.post(f"/authoring/lessons/{world.lesson.id}/video", data=b"x" * 5000,
                           headers={"Content-Type": "video/mp4"})
    assert response.status_code == 413
    assert "larger than" in response.json["error"]
    assert originals(app) == [] and count(Video) == 0 and count(Job) == 0


def test_oversized_chunked_upload_stops_at_the_cap(app, world):
    """No Content-Length to check up front: the stream is cut at the cap and the partial file removed."""
    app.config["VIDEO_MAX_BYTES"] = 1000

    client = login(app, world.instructor)
    response = client.post(f"/authoring/lessons/{world.lesson.id}/video", input_stream=io.BytesIO(b"y" * 5000),
                           headers={"Content-Type": "video/mp4"},
                           environ_overrides={"wsgi.input_terminated": True})  # as chunked encoding
    assert response.status_code == 413
    assert originals(app) == [] and count(Video) == 0


def test_plain_form_upload_works_without_javascript(app, world):
    client = login(app, world.instructor)
    # Small on purpose: werkzeug's test client leaves its own temp file open for bodies over 500 KB.
    response = client.post(f"/authoring/lessons/{world.lesson.id}/video",
                           data={"file": (io.BytesIO(b"\x00" * 4096), "lecture.mp4")},
                           headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert count(Video) == 1 and count(Job) == 1


def test_empty_form_upload_is_a_clear_error(app, world):
    client = login(app, world.instructor)
    response = client.post(f"/authoring/lessons/{world.lesson.id}/video", data={})
    assert response.status_code == 400 and "empty" in response.json["error"]
    response = client.post(f"/authoring/lessons/{world.lesson.id}/video", data={"other": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a video file" in response.json["error"]
    assert count(Video) == 0 and originals(app) == []


@pytest.mark.parametrize("who", ["assistant", "other_instructor", "student", "registrar"])
def test_only_the_courses_instructors_may_upload(app, world, who):
    client = login(app, getattr(world, who))
    response = client.post(f"/authoring/lessons/{world.lesson.id}/video", data=b"data",
                           headers={"Content-Type": "video/mp4"})
    assert response.status_code == 403
    assert count(Video) == 0 and originals(app) == []


def test_video_and_job_commit_together(app, world, clip):
    """A rolled-back upload leaves neither a video nor a job behind."""
    from lms.video import services

    with open(clip, "rb") as fh:
        services.attach_upload(world.lesson, world.instructor.id, fh, "x.mp4", 10**9)
    db.session.rollback()
    assert count(Video) == 0 and count(Job) == 0


def test_csrf_checked_upload_larger_than_the_form_cap_is_accepted(app_with, make):
    """CSRF protection reads the form before the view; the video cap must apply by then."""
    import re

    from lms.auth.models import Role
    app = app_with(WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=1000)
    with app.app_context():
        instructor = make.user(Role.INSTRUCTOR)
        course = make.course()
        make.offering(course, instructor=instructor)
        lesson_id, email = course.modules[0].lessons[0].id, instructor.email
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"login": email, "password": "correct-horse-battery", "csrf_token": token})
    page = client.get(f"/authoring/lessons/{lesson_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    url = f"/authoring/lessons/{lesson_id}/video"
    refused = client.post(url, data=b"v" * 5000, headers={"Content-Type": "video/mp4"})
    assert refused.status_code == 400  # no token: refused by CSRF, not stored
    accepted = client.post(url, data=b"v" * 5000, headers={"Content-Type": "video/mp4", "X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
