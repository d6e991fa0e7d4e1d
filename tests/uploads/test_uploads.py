"""Large uploads in parts, as the browser sends them: straight to S3 (moto over HTTP) through
presigned URLs, or through the app's own route on disk; then checked and claimed by their form."""
from __future__ import annotations

import io
from hashlib import sha256
import urllib.request
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.assignments.models import GameBuild, Submission
from lms.auth.models import Role
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.worker import Worker
from lms.storage import get_storage
from lms.uploads.models import Upload, UploadState
from lms.video.models import Video
from tests.assignments.conftest import form_key, login, make_assignment

MIB = 1024 * 1024
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000  # a believable head; the worker probes the rest


@pytest.fixture(params=["local", "s3"])
def lms(request, app, app_with):
    """The app on disk, or the same database with media in a moto bucket."""
    if request.param == "local":
        yield app
        return
    other = app_with(**request.getfixturevalue("s3_settings"))
    with other.app_context():
        yield other


@pytest.fixture
def world(lms, make):
    class World:
        pass
    w = World()
    w.instructor, w.other_instructor = make.user(Role.INSTRUCTOR), make.user(Role.INSTRUCTOR)
    w.student, w.outsider = make.user(Role.STUDENT), make.user(Role.STUDENT)
    w.course = make.course()
    w.offering = make.offering(w.course, instructor=w.instructor, students=[w.student])
    make.offering(instructor=w.other_instructor, students=[w.outsider])
    w.lesson = w.course.modules[0].lessons[0]
    w.assignment = make_assignment(w.offering, kinds=["game", "video"], max_file_bytes=20 * MIB)
    return w


def start(client, purpose, target_id, name, size):
    return client.post("/uploads", json={"purpose": purpose, "target_id": target_id, "filename": name, "size": size})


def put(client, token, number, chunk) -> dict:
    """One part, wherever the app says it goes."""
    target = client.get(f"/uploads/{token}/parts/{number}").get_json()
    if not target["direct"]:
        answer = client.put(target["url"], data=chunk)
        assert answer.status_code == 200, answer.get_json()
        return {"number": number, "etag": answer.get_json()["etag"]}
    assert target["url"].startswith("http://127.0.0.1:")  # the bucket, not the app
    request = urllib.request.Request(target["url"], data=chunk, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return {"number": number, "etag": answer.headers["ETag"].strip('"')}


def send(client, purpose, target_id, name, data) -> str:
    started = start(client, purpose, target_id, name, len(data))
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    size = body["part_size"]
    parts = [put(client, body["token"], n, data[(n - 1) * size:n * size]) for n in range(1, body["part_count"] + 1)]
    done = client.post(f"/uploads/{body['token']}/complete", json={"parts": parts})
    assert done.status_code == 200, done.get_json()
    return body["token"]


def test_a_lesson_video_in_parts_resumes_after_a_drop_and_becomes_the_lessons_video(lms, world):
    client = login(lms, world.instructor)
    data = MP4 + bytes(range(256)) * (9 * MIB // 256)  # two parts
    body = start(client, "lesson_video", world.lesson.id, "lecture 1.mp4", len(data)).get_json()
    assert body["part_count"] == 2
    first = put(client, body["token"], 1, data[:body["part_size"]])
    # The connection drops; the page asks what arrived and sends only the rest.
    status = client.get(f"/uploads/{body['token']}").get_json()
    assert [p["number"] for p in status["parts"]] == [1] and status["parts"][0]["etag"] == first["etag"]
    second = put(client, body["token"], 2, data[body["part_size"]:])
    done = client.post(f"/uploads/{body['token']}/complete", json={"parts": [first, second]})
    assert done.status_code == 200 and done.get_json()["state"] == "complete"
    answer = client.post(f"/authoring/lessons/{world.lesson.id}/video", json={"upload": body["token"]})
    assert answer.status_code == 201
    video = db.session.get(Video, answer.get_json()["video_id"])
    upload = db.session.scalar(select(Upload).where(Upload.token == body["token"]))
    assert video.original_key == upload.key and video.original_size == len(data)
    assert upload.state == UploadState.CLAIMED
    with get_storage().local_file(video.original_key) as path:
        assert path.read_bytes() == data
    again = client.post(f"/authoring/lessons/{world.lesson.id}/video", json={"upload": body["token"]})
    assert again.status_code == 400 and db.session.scalar(select(db.func.count(Video.id))) == 1


def test_a_build_sent_in_parts_is_submitted_checked_and_served(lms, world):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.html", "<!doctype html><title>game</title><canvas></canvas>")
        z.writestr("Build/game.wasm", b"\x00asm" + b"\x01" * 2000)
    client = login(lms, world.student)
    token = send(client, "game_build", world.assignment.id, "my game.zip", archive.getvalue())
    answer = client.post(f"/assignments/{world.assignment.id}/submit", data={
        "kind": "game", "idempotency_key": form_key(client, world.assignment), "media_upload": token})
    assert answer.status_code == 303 and "/submissions/" in answer.headers["Location"]
    submission = db.session.scalar(select(Submission))
    build = db.session.scalar(select(GameBuild).where(GameBuild.submission_id == submission.id))
    assert build.archive_key == db.session.scalar(select(Upload.key).where(Upload.token == token))
    Worker(lms, lease_seconds=30, poll_seconds=0.1).run(drain=True)
    db.session.refresh(build)
    assert build.state == "ready" and get_storage().exists(f"{build.prefix}/Build/game.wasm")


def test_a_part_cut_off_midway_is_not_kept_and_is_sent_again(lms, world):
    client = login(lms, world.instructor)
    data = MP4 + b"\x01" * 4000
    body = start(client, "lesson_video", world.lesson.id, "talk.mp4", len(data)).get_json()
    target = client.get(f"/uploads/{body['token']}/parts/1").get_json()
    if target["direct"]:  # S3 keeps what a presigned PUT brought; it just does not count
        put(client, body["token"], 1, data[:900])
    else:
        cut = client.put(target["url"], data=data[:900])
        assert cut.status_code == 422 and cut.get_json()["resend"] is True
        assert "900 of" in cut.get_json()["error"]
    # The page asks what arrived: nothing whole, so it sends part 1 again.
    assert client.get(f"/uploads/{body['token']}").get_json()["parts"] == []
    early = client.post(f"/uploads/{body['token']}/complete", json={"parts": []})
    assert early.status_code == 400 and "not arrived yet" in early.get_json()["error"]
    whole = put(client, body["token"], 1, data)
    done = client.post(f"/uploads/{body['token']}/complete", json={"parts": [whole]})
    assert done.status_code == 200 and done.get_json()["state"] == "complete"
    with get_storage().local_file(db.session.scalar(select(Upload.key).where(Upload.token == body["token"]))) as path:
        assert path.read_bytes() == data


def test_a_part_whose_checksum_does_not_match_is_refused(app, world):
    """On disk the part comes through the app, with the SHA-256 the page computed."""
    client = login(app, world.instructor)
    data = MP4 + b"\x02" * 4000
    body = start(client, "lesson_video", world.lesson.id, "talk.mp4", len(data)).get_json()
    url = client.get(f"/uploads/{body['token']}/parts/1").get_json()["url"]
    damaged = client.put(url, data=data[:-1] + b"\x03", headers={"X-Part-SHA256": sha256(data).hexdigest()})
    assert damaged.status_code == 422 and "checksum" in damaged.get_json()["error"]
    assert client.get(f"/uploads/{body['token']}").get_json()["parts"] == []
    intact = client.put(url, data=data, headers={"X-Part-SHA256": sha256(data).hexdigest()})
    assert intact.status_code == 200


def test_the_server_checks_the_joined_object_and_deletes_what_it_refuses(lms, world):
    client = login(lms, world.instructor)
    lying = start(client, "lesson_video", world.lesson.id, "talk.mp4", 3000).get_json()
    part = put(client, lying["token"], 1, b"<html><script>alert(1)</script>" + b" " * 2969)
    refused = client.post(f"/uploads/{lying['token']}/complete", json={"parts": [part]})
    assert refused.status_code == 422 and "does not match" in refused.get_json()["error"]


def test_oversize_wrong_type_and_strangers_are_refused(lms, world, make):
    client = login(lms, world.instructor)
    too_big = start(client, "lesson_video", world.lesson.id, "huge.mp4", lms.config["VIDEO_MAX_BYTES"] + 1)
    assert too_big.status_code == 413 and "larger than" in too_big.get_json()["error"]
    assert start(client, "lesson_video", world.lesson.id, "notes.exe", 100).status_code == 400
    assert start(client, "lesson_video", world.lesson.id, "empty.mp4", 0).status_code == 400
    assert start(login(lms, world.other_instructor), "lesson_video", world.lesson.id, "a.mp4", 100).status_code == 403
    assert start(login(lms, world.student), "lesson_video", world.lesson.id, "a.mp4", 100).status_code == 403
    assert start(login(lms, world.outsider), "game_build", world.assignment.id, "g.zip", 100).status_code == 403
    token = start(client, "lesson_video", world.lesson.id, "a.mp4", 1000).get_json()["token"]
    stranger = login(lms, world.other_instructor)  # someone else's token is simply unknown
    assert stranger.get(f"/uploads/{token}").status_code == 404
    assert stranger.get(f"/uploads/{token}/parts/1").status_code == 404
    assert stranger.post(f"/uploads/{token}/complete", json={"parts": []}).status_code == 404
    assert client.get(f"/uploads/{token}/parts/2").status_code == 400  # outside the declared size


def test_a_finished_upload_serves_only_the_form_it_was_started_for(lms, world):
    client = login(lms, world.student)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.html", "<!doctype html><title>g</title>")
    token = send(client, "game_build", world.assignment.id, "g.zip", archive.getvalue())
    as_video = client.post(f"/assignments/{world.assignment.id}/submit", data={
        "kind": "video", "idempotency_key": form_key(client, world.assignment), "media_upload": token})
    assert as_video.status_code == 303 and db.session.scalar(select(db.func.count(Submission.id))) == 0
    assert "could not be found" in client.get(as_video.headers["Location"]).get_data(as_text=True)


def test_on_disk_a_part_bigger_than_its_share_is_refused(app, make):
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course()
    make.offering(course, instructor=instructor)
    client = login(app, instructor)
    body = start(client, "lesson_video", course.modules[0].lessons[0].id, "a.mp4", 100).get_json()
    target = client.get(f"/uploads/{body['token']}/parts/1").get_json()
    assert client.put(target["url"], data=MP4[:101]).status_code == 413


def test_part_uploads_need_the_csrf_token(app_with, make):
    csrf_app = app_with(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        instructor = make.user(Role.INSTRUCTOR)
        course = make.course()
        make.offering(course, instructor=instructor)
        client = csrf_app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"login": instructor.email, "password": "correct-horse-battery",
                                    "csrf_token": csrf})
        lesson_id = course.modules[0].lessons[0].id
        page = client.get(f"/authoring/lessons/{lesson_id}").get_data(as_text=True)
        csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]  # the session's new one
        body = {"purpose": "lesson_video", "target_id": lesson_id, "filename": "a.mp4", "size": 100}
        assert client.post("/uploads", json=body).status_code == 400
        started = client.post("/uploads", json=body, headers={"X-CSRFToken": csrf})
        assert started.status_code == 201
        token = started.get_json()["token"]
        assert client.put(f"/uploads/{token}/parts/1", data=MP4[:100]).status_code == 400
        assert client.put(f"/uploads/{token}/parts/1", data=MP4[:100], headers={"X-CSRFToken": csrf}).status_code == 200


def test_an_expired_upload_is_removed(lms, world):
    client = login(lms, world.instructor)
    body = start(client, "lesson_video", world.lesson.id, "a.mp4", 1000).get_json()
    put(client, body["token"], 1, MP4[:1000])
    upload = db.session.scalar(select(Upload).where(Upload.token == body["token"]))
    upload.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    answer = client.get(f"/uploads/{body['token']}")
    assert answer.status_code == 409 and "expired" in answer.get_json()["error"]
    db.session.refresh(upload)
    assert upload.state == UploadState.ABORTED
