"""The whole app as a person meets it: gunicorn serving the app on 127.0.0.1, `flask lms worker` and
`flask lms sandbox` (on localhost: another host, so cookies never cross) as real separate processes,
each on a free port, over a fresh SQLite database and media folder with the demo loaded. With
`s3=True`, media live in a bucket of a moto server (another process, on 127.0.0.1 like S3 would be
reachable from the browser) whose CORS rule is applied by `flask lms s3-setup`, as in production."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _die_with_parent() -> None:
    """Linux: SIGTERM the child if the test process dies without its teardown (killed, crashed)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_clip(path: Path, seconds: int = 8, size: str = "320x180") -> Path:
    """A small H.264/AAC clip from ffmpeg's own test sources, made through lms/media/ffmpeg.py."""
    from lms.media import ffmpeg

    width, height = (int(n) for n in size.split("x"))
    ffmpeg.synthesize(path, seconds=seconds, width=width, height=height, fps=24)
    return path


@dataclass
class Stack:
    tmp: Path
    app_url: str = ""
    sandbox_url: str = ""
    env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)
    s3: bool = False
    s3_url: str = ""  # the bucket's origin (moto), when s3
    bucket: str = "kakehashi-media"

    @property
    def db_path(self) -> Path:
        return self.tmp / "instance" / "lms.sqlite3"

    def query(self, sql: str, *args):
        with sqlite3.connect(self.db_path, timeout=10) as conn:
            return conn.execute(sql, args).fetchall()

    def one(self, sql: str, *args):
        rows = self.query(sql, *args)
        assert rows, f"no row for {sql} {args}"
        return rows[0][0]

    def flask(self, *args: str, timeout: int = 120) -> str:
        done = subprocess.run([str(BIN / "flask"), *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self) -> None:
        app_port, sandbox_port = free_port(), free_port()
        self.app_url = f"http://127.0.0.1:{app_port}"
        self.sandbox_url = f"http://localhost:{sandbox_port}"
        (self.tmp / "instance").mkdir(parents=True, exist_ok=True)
        (self.tmp / "media").mkdir(exist_ok=True)
        self.env = {**os.environ, "FLASK_APP": "lms", "LMS_INSTANCE_PATH": str(self.tmp / "instance"),
                    "LMS_MEDIA_ROOT": str(self.tmp / "media"), "LMS_APP_ORIGIN": self.app_url,
                    "LMS_SANDBOX_ORIGIN": self.sandbox_url, "LMS_SECRET_KEY": "browser-tests-" + "k" * 40,
                    "LMS_WORKER_LEASE_SECONDS": "30", "PYTHONUNBUFFERED": "1"}
        for name in ("LMS_DATABASE_URL", "LMS_PRODUCTION", "LMS_DEBUG", "LMS_STORAGE"):
            self.env.pop(name, None)
        (self.tmp / "logs").mkdir(exist_ok=True)
        if self.s3:
            self._start_s3()
        self.flask("db", "upgrade")
        self.flask("lms", "demo")
        if self.s3:
            self.flask("lms", "s3-setup")  # the bucket's CORS rule for LMS_APP_ORIGIN, as the README says
        self._spawn("app", [str(BIN / "gunicorn"), "--workers", "1", "--threads", "8", "--bind",
                            f"127.0.0.1:{app_port}", "--log-level", "warning", "lms:create_app()"])
        self._spawn("worker", [str(BIN / "flask"), "lms", "worker"])
        self._spawn("sandbox", [str(BIN / "flask"), "lms", "sandbox", "--host", "127.0.0.1",
                                "--port", str(sandbox_port)])
        self._wait_for(self.app_url + "/login")
        self._wait_for(f"http://127.0.0.1:{sandbox_port}/")

    def _start_s3(self) -> None:
        port = free_port()
        self.s3_url = f"http://127.0.0.1:{port}"
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            self.env.pop(name, None)
        self.env.update({"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret",
                         "AWS_DEFAULT_REGION": "us-east-1", "LMS_STORAGE": "s3", "LMS_S3_BUCKET": self.bucket,
                         "LMS_S3_ENDPOINT_URL": self.s3_url, "LMS_S3_REGION": "us-east-1", "LMS_S3_PREFIX": "lms"})
        self._spawn("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
        self._wait_for(self.s3_url + "/")
        self.s3_client().create_bucket(Bucket=self.bucket)

    def s3_client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_url, region_name="us-east-1",
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"])

    def _spawn(self, name: str, argv: list[str]) -> None:
        out = open(self.tmp / "logs" / f"{name}.log", "wb")
        process = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=_die_with_parent)
        self.processes.append((name, process, out))

    def _wait_for(self, url: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            for name, process, _out in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers: up
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer within {seconds} s")
                time.sleep(0.1)

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.tmp / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def stop(self) -> None:
        for _name, process, _out in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, out in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            out.close()
        self.processes.clear()
