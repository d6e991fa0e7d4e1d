"""What bench/playback.py plays: one generated lecture, encoded once and kept in a cache folder.

- ours: the app itself (tests/browser/stack.py: gunicorn, `flask lms worker`, the demo data), the source
  attached to a lesson through `video.services.attach_upload` and transcoded by the real worker job;
- bare: a textbook ffmpeg ladder (four rungs highest first, audio muxed into each, 6 s segments);
- mp4: one progressive 720p MP4 with faststart, as a site that serves a single file would.
The peers and the pages that play them are static files, served by nginx.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms.media import ffmpeg  # noqa: E402
from tests.browser.stack import Stack, free_port  # noqa: E402

LESSON_KEY = "what-is-a-game"  # GD101's first lesson; the demo student below is enrolled
INSTRUCTOR, STUDENT, PASSWORD = "tanaka@demo.jdu.uz", "aziz@demo.jdu.uz", "bridge-demo-2026"
# The code whose output "ours" plays: a change to any of these makes a new encode.
PIPELINE = ["lms/video/ladder.py", "lms/video/hls.py", "lms/video/tasks.py", "lms/media/ffmpeg.py"]
# The bare ladder: the before-ladder's sizes and rates, as an ffmpeg tutorial writes them.
BARE_RUNGS = [(1920, 1080, 5000), (1280, 720, 2800), (854, 480, 1400), (640, 360, 800)]
PLAYER_CSS = "body{margin:0;padding:1.2rem} video{width:1062px;height:560px;background:#000}"


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def make_source(cache: Path, seconds: int) -> Path:
    path = cache / f"source-{seconds}s-1080p30.mp4"
    if not path.exists():
        partial = path.with_suffix(".part.mp4")
        ffmpeg.synthesize(partial, seconds=seconds, width=1920, height=1080, fps=30, timeout=seconds * 20)
        partial.rename(path)
    return path


def _encode(argv: list[str], seconds: int) -> None:
    ffmpeg.run([ffmpeg._binary("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *argv],
               timeout=seconds * 30)


def bare_ladder_argv(source: Path, out: Path) -> list[str]:
    split = f"[0:v]split={len(BARE_RUNGS)}" + "".join(f"[s{i}]" for i in range(len(BARE_RUNGS)))
    scales = ";".join(f"[s{i}]scale={w}:{h}[v{i}]" for i, (w, h, _k) in enumerate(BARE_RUNGS))
    argv = [*ffmpeg._input_args(source), "-filter_complex", f"{split};{scales}"]
    for i, (_w, _h, kbps) in enumerate(BARE_RUNGS):
        argv += ["-map", f"[v{i}]", "-map", "0:a:0", f"-b:v:{i}", f"{kbps}k", f"-maxrate:v:{i}", f"{kbps}k",
                 f"-bufsize:v:{i}", f"{kbps * 2}k"]
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
             "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
             "-master_pl_name", "master.m3u8", "-hls_segment_filename", str(out / "%v" / "seg_%03d.ts"),
             "-var_stream_map", " ".join(f"v:{i},a:{i}" for i in range(len(BARE_RUNGS))), str(out / "%v" / "index.m3u8")]
    return argv


def make_peers(cache: Path, source: Path, seconds: int, vendor: Path) -> Path:
    """The static folder nginx serves: bare/ (its ladder), progressive.mp4, their pages, calibration blobs."""
    root = cache / f"peers-{source.stem}"
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        (root / "bare").mkdir(parents=True)
        _encode(bare_ladder_argv(source, root / "bare"), seconds)
        _encode([*ffmpeg._input_args(source), "-vf", "scale=1280:720", "-c:v", "libx264", "-preset", "veryfast",
                 "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k", "-c:a", "aac", "-b:a", "128k",
                 "-movflags", "+faststart", f"file:{root / 'progressive.mp4'}"], seconds)
        (root / "done").write_text("ok\n")
    shutil.copy(vendor / "hls.min.js", root / "hls.min.js")  # the app's own hls.js, with hls.js defaults
    head = f"<!doctype html><meta charset=utf-8><title>peer</title><style>{PLAYER_CSS}</style>"
    (root / "bare.html").write_text(
        head + "<video controls playsinline></video><script src=hls.min.js></script><script>"
        "var h=new Hls();h.loadSource('bare/master.m3u8');h.attachMedia(document.querySelector('video'));</script>")
    (root / "mp4.html").write_text(head + "<video controls playsinline preload=metadata src=progressive.mp4></video>")
    (root / "index.html").write_text(head + "calibration")
    return root


def blob(root: Path, size: int) -> str:
    name = f"blob-{size}.bin"
    if not (root / name).exists():
        (root / name).write_bytes(hashlib.shake_256(str(size).encode()).digest(size))  # incompressible
    return name


NGINX = """worker_processes 1; pid {w}/nginx.pid; error_log {w}/nginx-error.log warn; daemon off;
events {{ worker_connections 256; }}
http {{ access_log off; sendfile on; client_body_temp_path {w}/t; proxy_temp_path {w}/t; fastcgi_temp_path {w}/t;
  uwsgi_temp_path {w}/t; scgi_temp_path {w}/t;
  types {{ text/html html; application/javascript js; video/mp2t ts; application/vnd.apple.mpegurl m3u8;
          video/mp4 mp4 m4s; application/octet-stream bin; }}
  server {{ listen 127.0.0.1:{port}; root {root}; location / {{ add_header Cache-Control no-store; }} }} }}
"""


class Nginx:
    def __init__(self, root: Path, work: Path):
        work.mkdir(parents=True, exist_ok=True)
        (work / "t").mkdir(exist_ok=True)
        self.port = free_port()
        conf = work / "nginx.conf"
        conf.write_text(NGINX.format(w=work, port=self.port, root=root))
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(work), "-e",
                                      str(work / "nginx-error.log"), "-c", str(conf)], stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise SystemExit(f"nginx exited: {(work / 'nginx-error.log').read_text()[-800:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


ATTACH = """
import sys
from sqlalchemy import select
from lms import create_app
from lms.auth.models import User
from lms.catalog.models import Lesson
from lms.extensions import db
from lms.video import services
app = create_app()
with app.app_context():
    lesson = db.session.scalar(select(Lesson).where(Lesson.key == sys.argv[1]))
    uploader = db.session.scalar(select(User).where(User.email == sys.argv[2]))
    with open(sys.argv[3], "rb") as stream:
        video = services.attach_upload(lesson, uploader.id, stream, "lecture.mp4", 10**10)
    db.session.commit()
    print(video.id)
"""


def pipeline_key(source: Path) -> str:
    return _digest(source.name.encode(), *((ROOT / p).read_bytes() for p in PIPELINE))


def start_ours(cache: Path, source: Path, seconds: int) -> tuple[Stack, int, dict]:
    """The app over a cached database and media folder; transcodes the source there the first time.
    Returns the stack, the lesson id and what the worker published (renditions, files, sizes)."""
    stack = Stack(cache / f"ours-{pipeline_key(source)}")
    stack.start()
    lesson = stack.one("SELECT id FROM lessons WHERE key = ?", LESSON_KEY)
    if stack.query("SELECT v.id FROM videos v JOIN lessons l ON l.video_id = v.id WHERE l.id = ?", lesson) == []:
        if not stack.query("SELECT id FROM videos WHERE lesson_id = ? AND state != 'failed'", lesson):
            done = subprocess.run([sys.executable, "-c", ATTACH, LESSON_KEY, INSTRUCTOR, str(source)], env=stack.env,
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)
            if done.returncode:
                stack.stop()
                raise SystemExit(f"attaching the source failed:\n{done.stderr[-2000:]}")
        deadline = time.monotonic() + seconds * 20
        while not stack.query("SELECT 1 FROM lessons WHERE id = ? AND video_id IS NOT NULL", lesson):
            failed = stack.query("SELECT error FROM videos WHERE lesson_id = ? AND state = 'failed'", lesson)
            if failed or time.monotonic() > deadline:
                stack.stop()
                raise SystemExit(f"the worker did not publish the video: {failed or 'timeout'}\n{stack.log('worker')}")
            time.sleep(1)
    prefix, renditions = stack.query("SELECT v.published_prefix, v.renditions FROM videos v JOIN lessons l "
                                     "ON l.video_id = v.id WHERE l.id = ?", lesson)[0]
    folder = stack.tmp / "media" / prefix
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
    return stack, lesson, {"renditions": json.loads(renditions), "files": files, "folder": folder}
