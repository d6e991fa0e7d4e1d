"""A full disk, for real: media on a 1 MiB tmpfs filled to the last byte. Uploads say the storage
is full (JSON for the uploader's script), nothing half-written stays, and /healthz warns."""
from __future__ import annotations

import io
import os
import subprocess

import pytest

from lms.assignments.models import Submission
from lms.auth.models import Role
from lms.extensions import db
from tests.assignments.conftest import PNG, make_assignment, submit_files
from tests.conftest import make_app
from tests.video.conftest import login


@pytest.fixture
def full_media(tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"a full disk is simulated with a tmpfs, which needs root: {mounted.stderr.strip()}")
    try:
        with open(root / "filler", "wb") as out:  # every byte taken
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.fixture
def app(migrated_url, tmp_path, full_media):
    from tests.conftest import empty_tables

    app = make_app(migrated_url, tmp_path, MEDIA_ROOT=str(full_media), DISK_MIN_FREE_MB=64)
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()


# Bodies stay under the test client's 500 KB in-memory limit; the disk has no byte left anyway.
def test_a_submission_on_a_full_disk_says_so_and_keeps_nothing(app, make, full_media):
    student = make.user()
    offering = make.offering(students=[student])
    assignment = make_assignment(offering)
    client = login(app, student)
    response = submit_files(client, assignment, [("art.png", PNG + os.urandom(200 * 1024))])
    assert response.status_code == 507
    text = response.get_data(as_text=True)
    assert "storage is full" in text and "Nothing was kept" in text and "Traceback" not in text
    assert db.session.query(Submission).count() == 0
    assert sorted(p.name for p in full_media.rglob("*") if p.is_file()) == ["filler"]


def test_an_uploader_gets_json_when_the_disk_is_full(app, make):
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course()
    make.offering(course, instructor=instructor)
    lesson = course.modules[0].lessons[0]
    client = login(app, instructor)
    video = io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + os.urandom(200 * 1024))
    response = client.post(f"/authoring/lessons/{lesson.id}/video", data={"file": (video, "lecture.mp4")},
                           headers={"Accept": "application/json"})
    assert response.status_code == 507 and "storage is full" in response.get_json()["error"]


def test_healthz_warns_when_free_space_is_low(app, client):
    response = client.get("/healthz")
    body = response.get_json()
    assert body["disk"] == "low" and body["status"] == "warning" and response.status_code == 200


def test_the_admin_health_page_shows_low_disk_space(app, make):
    from lms.auth.models import Role as R

    page = login(app, make.user(R.ADMIN)).get("/admin/health").get_data(as_text=True)
    assert "low: uploads and transcodes will soon fail" in page
