"""Real `flask lms worker` processes for the tests, configured only through LMS_* variables (as
systemd starts them), each in a process group of its own so a signal reaches it and nothing else."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]
S3_SETTINGS = ("STORAGE", "S3_BUCKET", "S3_PREFIX", "S3_REGION", "S3_ENDPOINT_URL")


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class WorkerProcess:
    def __init__(self, app, tmp_path: Path, name: str, *, lease_seconds: int, scratch: Path | None = None):
        config = app.config
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "FLASK_"))}
        env.update(FLASK_APP="lms", PYTHONUNBUFFERED="1",
                   LMS_DATABASE_URL=config["DATABASE_URL"], LMS_SECRET_KEY=TEST_SECRET,
                   LMS_INSTANCE_PATH=str(tmp_path / "instance"), LMS_MEDIA_ROOT=config["MEDIA_ROOT"],
                   LMS_WORKER_LEASE_SECONDS=str(lease_seconds))
        if config["STORAGE"] == "s3":  # AWS_* credentials come from os.environ (the moto fixture)
            env.update({f"LMS_{name}": str(config[name]) for name in S3_SETTINGS})
        if scratch is not None:
            env["TMPDIR"] = str(scratch)
        self.log = tmp_path / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "flask", "lms", "worker"], env=env, cwd=ROOT,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.id: str | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_started(self, timeout: float = 60) -> str:
        found = wait_for(lambda: re.search(r"^worker (\S+) started$", self.output(), re.M)
                         or self.proc.poll() is not None, timeout, interval=0.05)
        assert found and self.proc.poll() is None, f"worker did not start:\n{self.output()}"
        self.id = found.group(1)
        return self.id

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.proc.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def jobs_run(self) -> int:
        found = re.search(rf"^worker {re.escape(self.id)} stopped after (\d+) job\(s\)$", self.output(), re.M)
        assert found, self.output()
        return int(found.group(1))


def live_processes():
    """(pid, command line, process group) of every process that is not a zombie."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            yield int(entry.name), cmdline, int(fields[2])


def media_processes(media_root: str) -> list[int]:
    """Pids of processes (ffmpeg) working on files under this test's media root."""
    return [pid for pid, cmdline, _group in live_processes() if media_root in cmdline]
