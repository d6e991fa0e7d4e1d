"""Under deploy/gunicorn.conf.py, /metrics adds up every worker process (Prometheus multiprocess
mode), so a scrape that lands on any one of them reports the whole server."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import TEST_SECRET
from tests.ops.test_metrics import sample
from tests.postgres import free_port
from tests.workers import ROOT, wait_for


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def test_three_gunicorn_workers_report_one_total(tmp_path, migrated_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "PROMETHEUS_"))}
    env.update(LMS_DATABASE_URL=migrated_url, LMS_SECRET_KEY=TEST_SECRET, LMS_INSTANCE_PATH=str(tmp_path / "i"),
               LMS_MEDIA_ROOT=str(tmp_path / "media"), GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="3")
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                               "lms:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _up(base), 60), (tmp_path / "gunicorn.log").read_text()
        before = _healthz_count(base)
        folder = Path(f"/dev/shm/kakehashi-metrics-{server.pid}")
        burst(base)
        served = _pids(folder)
        # The kernel may have given every request to one process: stop one that served, so the next
        # burst is certainly served by another, and the total must still count both.
        gone = served.pop()
        os.kill(gone, signal.SIGTERM)
        assert wait_for(lambda: not Path(f"/proc/{gone}").exists() and _up(base), 30)
        burst(base)
        assert len(_pids(folder) | {gone}) >= 2
        for _ in range(3):  # each scrape lands on any process, and each reports the same total
            assert _healthz_count(base) == before + 120
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    assert not Path(f"/dev/shm/kakehashi-metrics-{server.pid}").exists()  # removed on exit


def burst(base: str) -> None:
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda _: get(base + "/healthz"), range(60)))


def _pids(folder: Path) -> set[int]:
    """Processes that counted a request (each writes histogram_<pid>.db)."""
    return {int(f.stem.rsplit("_", 1)[-1]) for f in folder.glob("histogram_*.db")}


def _healthz_count(base: str) -> float:
    return sample(get(base + "/metrics"), "lms_http_request_duration_seconds_count",
                  endpoint="ops.healthz", method="GET", status="200")


def _up(base: str) -> bool:
    try:
        get(base + "/metrics")  # not counted itself, unlike /healthz
        return True
    except OSError:
        return False
