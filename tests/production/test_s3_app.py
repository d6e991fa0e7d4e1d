"""The whole app on S3 storage (moto over real HTTP): lesson video upload → transcode → playback with
presigned segments, submission downloads, game builds served by the sandbox, cohort exports, and
the health check. Every presigned URL is fetched for real, as the browser would."""
from __future__ import annotations

import csv
import gzip
import html
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest

from lms.assignments.models import Assignment, BuildState, GameBuild, SubmissionFile
from lms.auth.models import Role
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.jobs.worker import Worker
from lms.media import ffmpeg
from lms.sandbox import create_sandbox_app
from lms.storage import get_storage
from lms.video.models import Video, VideoState
from tests.assignments.conftest import form_key, make_assignment, submit_files
from tests.conftest import PASSWORD, IsolatedClient
from tests.production.conftest import assert_presigned, fetch
from tests.records import transcript_data
from tests.sandbox.helpers import DATA, WASM, make_zip, unity_files


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two seconds of 320x180 with a tone: one video rung, one audio rung, one segment each."""
    path = tmp_path_factory.mktemp("clips") / "lecture.mp4"
    ffmpeg.synthesize(path, seconds=2, width=320, height=180, fps=15)
    return path


def login(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def run_jobs(app) -> int:
    count = Worker(app, lease_seconds=30, poll_seconds=0.1).run(drain=True)
    db.session.expire_all()
    return count


def test_lesson_video_uploads_transcodes_and_plays_from_the_bucket(app, make, clip, moto_s3):
    bucket, storage = app.config["S3_BUCKET"], get_storage()
    instructor, student = make.user(Role.INSTRUCTOR), make.user(Role.STUDENT)
    course = make.course()
    offering = make.offering(course, instructor=instructor, students=[student])
    lesson = course.modules[0].lessons[0]

    response = login(app, instructor).post(
        f"/authoring/lessons/{lesson.id}/video", data=clip.read_bytes(),
        headers={"X-Upload-Name": "lecture.mp4", "Content-Type": "video/mp4"})
    assert response.status_code == 201, response.get_data(as_text=True)
    video = db.session.get(Video, response.json["video_id"])
    assert storage.size(video.original_key) == clip.stat().st_size  # in the bucket, not on disk
    assert run_jobs(app) == 2  # the transcode, then its "video ready" notification
    db.session.refresh(video)
    assert video.state == VideoState.READY, video.error
    assert video.renditions == ["180p", "audio"]
    assert storage.list_prefixes(f"videos/{video.id}/renditions") == [video.published_prefix]

    client = login(app, student)
    page = client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").get_data(as_text=True)
    master_url = html.unescape(re.search(r'data-master="([^"]+)"', page).group(1))
    base = master_url.rsplit("/", 1)[0]
    master = client.get(master_url)
    assert master.status_code == 200 and master.mimetype == "application/vnd.apple.mpegurl"
    # Nested playlists stay relative: they come back through the app, which signs their segments.
    text = master.get_data(as_text=True)  # the video variants, then the audio rendition they play beside
    variants = re.findall(r"^(\w+/index\.m3u8)$", text, re.M) + re.findall(r'URI="(\w+/index\.m3u8)"', text)
    assert variants == ["180p/index.m3u8", "audio/index.m3u8"]

    for variant in variants:
        playlist = client.get(f"{base}/{variant}")
        assert playlist.status_code == 200 and playlist.mimetype == "application/vnd.apple.mpegurl"
        segments = [line for line in playlist.get_data(as_text=True).splitlines()
                    if line and not line.startswith("#")]
        assert segments, playlist.get_data(as_text=True)
        for url in segments:
            assert_presigned(url, moto_s3.endpoint, bucket)
            status, headers, body = fetch(url)
            assert status == 200 and headers["Content-Type"] == "video/mp2t"
            assert body[0] == 0x47 and len(body) % 188 == 0  # MPEG-TS packets: sync byte, 188 bytes each
            name = unquote(url.split("?")[0].rsplit("/", 1)[1])
            assert body == storage.read_bytes(f"{video.published_prefix}/{variant.split('/')[0]}/{name}",
                                              max_bytes=10**7)

    poster = client.get(f"{base}/poster.jpg")
    assert poster.status_code == 302 and poster.headers["Cache-Control"] == "private, no-store"
    assert_presigned(poster.headers["Location"], moto_s3.endpoint, bucket)
    status, headers, body = fetch(poster.headers["Location"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"

    # Captions stay same-origin (a <track> needs that): the app reads them from the bucket and answers.
    srt = "1\n00:00:00,000 --> 00:00:01,500\nこんにちは\n"
    added = login(app, instructor).post(f"/authoring/videos/{video.id}/captions",
                                        data={"language": "ja", "file": (io.BytesIO(srt.encode()), "ja.srt")})
    assert added.status_code == 302
    track = client.get(f"{base}/captions/ja.vtt")
    assert track.status_code == 200 and track.mimetype == "text/vtt"
    assert track.get_data(as_text=True).startswith("WEBVTT") and "こんにちは" in track.get_data(as_text=True)

    # The media URL is still bound to its user, on S3 as on disk.
    other = make.user(Role.STUDENT)
    assert login(app, other).get(master_url).status_code == 404
    # Nothing went through the local disk: the upload, the outputs and the poster are in the bucket only.
    media = Path(app.config["MEDIA_ROOT"])
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_a_submitted_file_downloads_from_the_bucket_as_an_attachment(app, make, moto_s3):
    student, instructor = make.user(Role.STUDENT), make.user(Role.INSTRUCTOR)
    offering = make.offering(instructor=instructor, students=[student])
    assignment = make_assignment(offering, allowed_extensions=["html", "png"])
    # HTML is never shown inline: on S3 the bucket must send it as an attachment too.
    page = "<!doctype html><script>alert(document.cookie)</script>".encode()
    response = submit_files(login(app, student), assignment, [("レポート 1.html", page)])
    assert response.status_code == 303
    record = db.session.scalars(db.select(SubmissionFile)).one()
    assert get_storage().read_bytes(record.storage_key, max_bytes=10**6) == page

    for who in (student, instructor):
        download = login(app, who).get(f"/submissions/{record.submission_id}/files/{record.id}")
        assert download.status_code == 302
        assert download.headers["Cache-Control"] == "private, no-store"
        url = download.headers["Location"]
        assert_presigned(url, moto_s3.endpoint, app.config["S3_BUCKET"])
        status, headers, body = fetch(url)
        assert status == 200 and body == page
        assert headers["Content-Type"] == "application/octet-stream"
        disposition = headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="')
        assert "filename*=UTF-8''%E3%83%AC%E3%83%9D%E3%83%BC%E3%83%88%201.html" in disposition
    outsider = make.user(Role.STUDENT)
    assert login(app, outsider).get(f"/submissions/{record.submission_id}/files/{record.id}").status_code == 403


@pytest.fixture
def sandbox(app):
    """The sandbox app as production runs it: same database, secret and S3 settings as the app."""
    keys = ("DATABASE_URL", "SECRET_KEY", "MEDIA_ROOT", "STORAGE", "S3_BUCKET", "S3_PREFIX", "S3_REGION",
            "S3_ENDPOINT_URL")
    sandbox = create_sandbox_app({"TESTING": True, **{k: app.config[k] for k in keys}})
    sandbox.test_client_class = IsolatedClient
    yield sandbox
    with sandbox.app_context():
        db.engine.dispose()


def test_a_game_build_is_checked_on_s3_and_served_by_the_sandbox(app, make, sandbox):
    student = make.user(Role.STUDENT)
    offering = make.offering(students=[student])
    assignment = Assignment(offering_id=offering.id, title="Jam game", kinds=["game"], points=Decimal(10),
                            max_file_bytes=10**7, due_at=datetime.now(UTC) + timedelta(days=7))
    db.session.add(assignment)
    db.session.commit()
    client = login(app, student)
    response = client.post(f"/assignments/{assignment.id}/submit", data={
        "kind": "game", "idempotency_key": form_key(client, assignment),
        "media": (io.BytesIO(make_zip(unity_files())), "game.zip")})
    assert response.status_code == 303, response.get_data(as_text=True)
    build = db.session.scalars(db.select(GameBuild)).one()
    assert build.state == BuildState.CHECKING
    assert run_jobs(app) == 1
    db.session.refresh(build)
    assert build.state == BuildState.READY, build.error
    storage = get_storage()
    assert storage.list_prefixes(f"builds/{build.id}") == [build.prefix]

    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    src = html.unescape(re.search(r'<iframe class="game-frame" src="([^"]+)"', receipt).group(1))
    assert src.startswith("http://localhost:5001/b/") and src.endswith("/index.html")
    base = src[len("http://localhost:5001"):].rsplit("/", 1)[0]
    play = sandbox.test_client()
    for name, mimetype, encoding, body in [
            ("Build/x.wasm.br", "application/wasm", "br", WASM),
            ("Build/x.data.gz", "application/octet-stream", "gzip", unity_files()["Build/x.data.gz"]),
            ("index.html", "text/html", None, unity_files()["index.html"])]:
        served = play.get(f"{base}/{name}")
        assert served.status_code == 200, name
        assert served.mimetype == mimetype and served.headers.get("Content-Encoding") == encoding, name
        assert served.data == body and served.content_length == len(body), name  # passed through
        assert served.headers["Access-Control-Allow-Origin"] == "*"
    assert gzip.decompress(play.get(f"{base}/Build/x.data.gz").data) == DATA
    assert play.get(f"{base}/Build/missing.js").status_code == 404
    assert play.get(f"{base}/../../videos/x").status_code == 404


def test_a_cohort_export_is_stored_in_the_bucket_and_its_download_redirects(app, make, moto_s3):
    cohort = transcript_data.build(make, extra_students=1)
    client = login(app, cohort.registrar)
    response = client.post("/records/exports", data={"program": cohort.program.id, "cohort_year": 2026,
                                                     "format": "csv"})
    assert response.status_code == 302
    job = db.session.scalars(db.select(Job)).one()
    assert run_jobs(app) == 2  # the export, then its "export ready" notification
    assert db.session.get(Job, job.id).state == JobState.DONE
    download = client.get(f"/records/exports/{job.id}/download")
    assert download.status_code == 302 and download.headers["Cache-Control"] == "private, no-store"
    assert_presigned(download.headers["Location"], moto_s3.endpoint, app.config["S3_BUCKET"])
    status, headers, body = fetch(download.headers["Location"])
    assert status == 200 and headers["Content-Disposition"].startswith('attachment; filename="transcripts-GD-2026.')
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["student_number"] for r in rows} >= {"JDU26001"}
    assert login(app, make.user(Role.STUDENT)).get(f"/records/exports/{job.id}/download").status_code == 403


def test_healthz_checks_the_bucket(app, client, app_with, s3_settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok", "disk": "ok"}
    # A bucket that does not exist (a typo in LMS_S3_BUCKET) is an outage, not an empty bucket.
    missing = app_with(**{**s3_settings, "S3_BUCKET": "no-such-bucket-for-lms"})
    response = missing.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "ok", "storage": "unavailable", "disk": "ok"}
    assert "no-such-bucket" not in response.get_data(as_text=True)

