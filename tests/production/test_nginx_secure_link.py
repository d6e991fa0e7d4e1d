"""Local storage behind nginx: the app signs segment links once per playlist, and nginx (running
deploy/nginx.conf.example itself) serves the files, refusing wrong, moved and expired signatures."""
from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lms.auth.models import Role
from lms.extensions import db
from lms.storage import LocalStorage
from lms.storage.secure_link import SecureLink
from lms.video.media_access import media_url
from lms.video.models import Video, VideoState
from tests.postgres import free_port

SECRET = "s" * 40
PREFIX = "/protected-media"
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf.example"


@pytest.fixture
def nginx(tmp_path):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is missing: `make test` installs Debian's nginx-light"
    media, port = tmp_path / "media", free_port()
    media.mkdir()
    server = EXAMPLE.read_text().replace("{{LISTEN}}", f"127.0.0.1:{port}").replace(
        "{{SECRET}}", SECRET).replace("{{MEDIA_ROOT}}", str(media)).replace("{{APP}}", "127.0.0.1:9")
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(f"""
user root;  # the test's files are root's own, in a private temp folder
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
  {server}
}}""")
    process = subprocess.Popen([binary, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                                "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{PREFIX}/x", timeout=1)
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", LocalStorage(media, secure_link=SecureLink(PREFIX, SECRET))
    process.terminate()
    process.wait(timeout=10)


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), b""


def test_nginx_serves_signed_links_and_refuses_the_rest(nginx):
    base, storage = nginx
    segment = b"\x47" + bytes(187) * 10
    storage.put_bytes("videos/7/renditions/a1/360p/seg_00000.ts", segment)
    storage.put_bytes("videos/8/renditions/a1/360p/seg_00000.ts", b"\x47 someone else's lecture")
    link = storage.presigned_url("videos/7/renditions/a1/360p/seg_00000.ts", expires=60)
    status, headers, body = get(base + link)
    assert status == 200 and body == segment
    assert headers["Content-Type"] == "video/mp2t" and headers["X-Content-Type-Options"] == "nosniff"
    assert get(base + link.replace("videos/7/", "videos/8/"))[0] == 403  # a signature is for one file
    assert get(base + link.replace("md5=", "md5=A"))[0] == 403
    assert get(base + link.split("?")[0])[0] == 403
    expired = SecureLink(PREFIX, SECRET).url("videos/7/renditions/a1/360p/seg_00000.ts", 60, now=time.time() - 120)
    assert get(base + expired)[0] == 410
    assert storage.presigned_url("submissions/abc", expires=60, filename="essay.pdf") is None  # via the app


def test_the_app_signs_segment_links_for_nginx_in_the_playlist(nginx, app_with, make):
    base, storage = nginx
    app = app_with(MEDIA_ROOT=str(storage.root), MEDIA_SECURE_LINK_PREFIX=PREFIX, MEDIA_SECURE_LINK_SECRET=SECRET)
    with app.app_context():
        instructor, student = make.user(Role.INSTRUCTOR), make.user(Role.STUDENT)
        course = make.course()
        make.offering(course, instructor=instructor, students=[student])
        lesson = course.modules[0].lessons[0]
        lesson.published = True
        prefix = "videos/1/renditions/attempt-1"
        storage.put_bytes(f"{prefix}/master.m3u8", b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n")
        storage.put_bytes(f"{prefix}/360p/index.m3u8", b"#EXTM3U\n#EXTINF:2.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n")
        storage.put_bytes(f"{prefix}/360p/seg_00000.ts", b"\x47segment")
        video = Video(lesson_id=lesson.id, uploaded_by_id=instructor.id, original_key="videos/originals/x",
                      original_name="x.mp4", original_size=1, original_sha256="0" * 64, state=VideoState.READY,
                      published_prefix=prefix, renditions=["360p"], duration=2.0)
        db.session.add(video)
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"login": student.email, "password": "correct-horse-battery"})
        playlist = client.get(media_url_in(app, video.id, student.id, "360p/index.m3u8")).get_data(as_text=True)
        link = next(line for line in playlist.splitlines() if line.startswith(PREFIX))
        assert "?md5=" in link and "&expires=" in link
        status, _headers, body = get(base + link)
        assert status == 200 and body == b"\x47segment"
        master = client.get(media_url_in(app, video.id, student.id, "master.m3u8")).get_data(as_text=True)
        assert "\n360p/index.m3u8\n" in master  # nested playlists still come through the app, which signs them


def media_url_in(app, video_id: int, user_id: int, name: str) -> str:
    with app.test_request_context():
        return media_url(video_id, user_id, name)
