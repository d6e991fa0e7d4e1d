"""Servers for bench/media_delivery.py besides gunicorn: moto and nginx as processes, and a WSGI file app.

nginx runs two server blocks in one process, so (c) and (b3) share workers and settings and differ only
in what issue 7 asks about: (c) serves the files as they lie, (b3) is deploy/nginx.conf.example itself
(secure_link checked per segment; `location /` proxies to the app for playlists).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from deadline_spike import _children, free_port, http_request

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf.example"


class Proc:
    """A server we start (moto, nginx) on a loopback port: its pid tree and a clean stop."""

    def __init__(self, name: str, argv: list[str], port: int, log: Path):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        for _ in range(150):
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited with {self.proc.returncode}: {log.read_text()[-800:]}")
            try:
                http_request(port, "GET", "/", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{name} did not answer on port {port} within 30 s")

    def pids(self) -> list[int]:
        return [self.proc.pid, *_children(self.proc.pid)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# The http block is ours (no root-owned paths, access log off as a media server would have it); the
# (b3) server block is the deploy example, unchanged but for its placeholders.
NGINX_CONF = """worker_processes {workers}; pid {work}/nginx.pid; error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; keepalive_timeout 60;
  client_body_temp_path {t}/body; proxy_temp_path {t}/proxy; fastcgi_temp_path {t}/fcgi; uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;
  types {{ video/mp2t ts; application/vnd.apple.mpegurl m3u8; }}
  server {{ listen 127.0.0.1:{static}; root {media}; location / {{ }} }}
{secure}
}}
"""


def start_nginx(work: Path, media: Path, workers: int, app_port: int, secret: str) -> tuple[Proc, int, int]:
    """nginx with (c) on one port and deploy/nginx.conf.example (APP: app_port) on another."""
    static, secure, conf = free_port(), free_port(), work / "nginx.conf"
    (work / "nginx-tmp").mkdir()
    block = EXAMPLE.read_text().replace("{{LISTEN}}", f"127.0.0.1:{secure}").replace("{{SECRET}}", secret) \
        .replace("{{MEDIA_ROOT}}", str(media)).replace("{{APP}}", f"127.0.0.1:{app_port}")
    conf.write_text(NGINX_CONF.format(workers=workers, work=work, t=work / "nginx-tmp", media=media, static=static,
                                      secure=block))
    # -e: nginx opens its default error log before reading the config; -g: stay in the foreground for Proc
    return Proc("nginx", [shutil.which("nginx"), "-p", str(work), "-e", str(work / "nginx-error.log"),
                          "-c", str(conf), "-g", "daemon off;"], static, work / "nginx.log"), static, secure


def static_app(environ, start_response):
    """The limit when nginx is absent: a file from STATIC_ROOT through gunicorn's sendfile wrapper."""
    path = os.path.join(os.environ["STATIC_ROOT"], environ["PATH_INFO"].lstrip("/"))
    if ".." in environ["PATH_INFO"] or not os.path.isfile(path):
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "video/mp2t"), ("Content-Length", str(os.path.getsize(path)))])
    return environ["wsgi.file_wrapper"](open(path, "rb"), 1 << 20)
