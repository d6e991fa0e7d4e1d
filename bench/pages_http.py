"""bench/pages.py's servers and clients: gunicorn started as in deploy, logged-in sessions over
HTTP, one load run per page and server, and CPU seconds read from /proc (the server's process tree,
PostgreSQL's, the load generator's, and everything else on the shared machine)."""
from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from deadline_spike import free_port, hidden_value, http_request  # the benches' HTTP helpers
from pages_data import PASSWORD, Page

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def work_folder(prefix: str) -> Path:
    """A temporary folder for the run. Call it before anything imports lms: as under gunicorn
    (deploy/gunicorn.conf.py sets it), prometheus_client picks its multiprocess value class at
    import, and each observation then writes to a file, so the in-process figures pay that too."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(work / "metrics")
    (work / "metrics").mkdir()
    return work


def machine_line() -> str:
    import platform

    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

# ---------------------------------------------------------------- logged-in sessions over HTTP

@dataclass
class Session:
    """A browser: its cookies (lms_session, lms_device) as the server last set them."""
    email: str
    user_id: int = 0
    cookies: dict = field(default_factory=dict)
    set_cookie_after_priming: bool = False

    def header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _take(self, headers) -> bool:
        raw = headers.get_all("Set-Cookie") or []
        for line in raw:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=thu, 01 jan 1970" not in line.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return bool(raw)

    def get(self, port: int, path: str) -> tuple[int, bytes, bool]:
        status, headers, body = http_request(port, "GET", path, headers=self.header())
        return status, body, self._take(headers)

    def login(self, port: int) -> None:
        status, page, _ = self.get(port, "/login")
        form = urllib.parse.urlencode({"csrf_token": hidden_value(page.decode(), "csrf_token"),
                                       "login": self.email, "password": PASSWORD}).encode()
        status, headers, body = http_request(port, "POST", "/login", headers={
            **self.header(), "Content-Type": "application/x-www-form-urlencoded"}, body=form)
        self._take(headers)
        if status != 302 or "/login" in (headers.get("Location") or ""):
            raise SystemExit(f"POST /login as {self.email}: {status} {body[:200]!r}")

    def prime(self, port: int, pages: list[Page]) -> dict[str, int]:
        """Open each page twice, keeping the cookies: the first visit to a page with a form puts a
        CSRF token in the session (a new cookie), as in a browser; wrk then replays a settled cookie.
        Returns the body size of each page."""
        sizes = {}
        for page in pages:
            for _visit in range(2):
                status, body, _ = self.get(port, page.path)
                if status != page.status:
                    raise SystemExit(f"GET {page.path} as {self.email}: {status} {body[:200]!r}")
                sizes[page.path] = len(body)
        for page in pages:  # settled: does any page still set a cookie every time?
            self.set_cookie_after_priming |= self.get(port, page.path)[2]
        return sizes


# ---------------------------------------------------------------- servers

def _stat(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return [int(x) for x in fh.read().rsplit(")", 1)[1].split()[11:15]]  # utime stime cutime cstime
    except (OSError, ValueError):
        return [0, 0, 0, 0]


def children(pid: int) -> list[int]:
    kids = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
    return kids


def tree_cpu(pid: int) -> float:
    """CPU seconds of a server process and its children (gunicorn's workers, PostgreSQL's backends),
    with the children it reaped (workers recycled by max_requests, closed backends): those are in its
    cutime/cstime. A child that exits between two readings is counted live in the first and in full
    in the second, so the difference is still what the tree used in between."""
    utime, stime, cutime, cstime = _stat(pid)
    return (utime + stime + cutime + cstime + sum(sum(_stat(p)[:2]) for p in children(pid))) / CLK_TCK


def postmaster_pid(cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def machine_busy() -> tuple[float, float]:
    """(busy, total) core-seconds since boot, from /proc/stat (idle and iowait are not busy)."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK, sum(ticks) / CLK_TCK


class Gunicorn:
    """`gunicorn -c deploy/gunicorn.conf.py APP` on a free loopback port; its logs in one file."""

    def __init__(self, name: str, app: str, env: dict, args, work: Path):
        self.name, self.port, self.workers = name, free_port(), args.workers
        self.log = work / f"gunicorn-{name}.log"
        exe = Path(sys.executable).with_name("gunicorn")
        self.argv = [str(exe if exe.exists() else shutil.which("gunicorn")), "-c", str(ROOT / "deploy/gunicorn.conf.py"), app]
        self.env = {**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                    "GUNICORN_WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads),
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)])}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the config makes its own per server
        self.proc: subprocess.Popen | None = None

    def start(self, ready_path: str) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name}: gunicorn exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(OSError):
                if http_request(self.port, "GET", ready_path)[0] < 500 and len(children(self.proc.pid)) >= self.workers:
                    return
            time.sleep(0.3)
        raise SystemExit(f"{self.name}: no answer on port {self.port} within 120 s; see {self.log}")

    def cpu_seconds(self) -> float:
        return tree_cpu(self.proc.pid) if self.proc else 0.0

    def boots(self) -> int:
        """Workers booted so far (4 at start; more when max_requests recycles them)."""
        return self.log.read_text(errors="replace").count("Booting worker")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


# ---------------------------------------------------------------- load

def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_load(load, server: Gunicorn, db_pid: int, reqs: list[tuple[str, dict]], args, work: Path,
             expect_bytes: int, status: int = 200) -> dict:
    """One page on one server: the load for --seconds, with the CPU seconds of the server, PostgreSQL,
    the load generator and everything else on the (shared) machine around it."""
    cpu0, db0, client0, machine0 = server.cpu_seconds(), tree_cpu(db_pid), _children_cpu(), machine_busy()
    boots0 = server.boots()
    r = load(server.port, reqs, args.clients, args.seconds, work)
    busy = machine_busy()[0] - machine0[0]
    r["server_cpu"], r["db_cpu"] = server.cpu_seconds() - cpu0, tree_cpu(db_pid) - db0
    r["client_cpu"] = _children_cpu() - client0
    r["other_cpu"] = busy - r["server_cpu"] - r["db_cpu"] - r["client_cpu"]
    r["rps"], r["restarts"] = r["requests"] / r["seconds"], server.boots() - boots0
    if status != 200 and load.__name__ == "python_run":  # it counts every non-200 as an error
        r["errors"], r["note"] = 0, f"{status} expected: checked by size only"
    per = r["bytes"] / max(1, r["requests"])
    if per < 0.8 * expect_bytes:  # a redirect to /login or an error page, not the page
        r["errors"] = max(1, r["errors"])
        r["note"] = f"{per:.0f} bytes per response, expected >= {expect_bytes}"
    return r
