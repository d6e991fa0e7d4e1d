"""Deadline-spike benchmark: N students upload a file each within a few seconds, against gunicorn.

On loopback, in one run, for each file size (default 2 MB then 20 MB; MB = 2**20 bytes):

  (b) a bare WSGI app (bench/bare_upload.py) that streams the request body to a file in 1 MB chunks
      and answers 201: the limit;
  (a) our app, `lms:create_app()`, POST /assignments/<id>/submit with CSRF on: every student logged
      in through POST /login beforehand and fetched the assignment page (csrf_token and
      idempotency_key, as a browser would; not timed).

Both servers run under gunicorn with the same settings (default --workers 4 --threads 2
--worker-class gthread, as deploy/gunicorn.conf.py) and receive the same multipart bodies (csrf_token, kind=files,
idempotency_key, files=<zip>). N client threads start their uploads spread over --window seconds;
each body is sent from one shared buffer plus a 64-byte tail unique to the student, so nothing
like N x size is held in memory and every file has its own SHA-256.

Afterwards the database must hold exactly one submission per student with the right size and
SHA-256, and the stored file must hash to it (lost = N - verified). Prints per server: lost, p50/p95
accept time (connect -> response), throughput (MB/s, submissions/s), the workers' CPU seconds (and
the kernel's share), peak RSS of the gunicorn master + workers (sampled every 50 ms from /proc), the
machine's busy share and the CPU everything else used meanwhile (the machine is shared: a noisy
round shows there); then the throughput ratio ours/bare (target >= 0.8), the CPU per file of both,
our peak RSS per file size (target: not growing with file size), and an in-process timing of each
step of both paths on one file. Run from the project root:

    .venv/bin/python bench/deadline_spike.py [--students 200] [--sizes 2,20] [--repeat 1] [--keep]
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import html
import http.client
import io
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Benchmark the checkout this file lives in (see bench/transcode.py).
sys.path.insert(0, str(ROOT))


from benchlib import migrated_app  # noqa: E402

MB = 1024 * 1024
PASSWORD = "deadline-spike-Kakehashi-2026"
SECRET_KEY = "bench-deadline-spike-" + "k" * 40
TAIL = 64  # bytes at the end of each file unique to the student
SEND_CHUNK = MB
THROUGHPUT_TARGET = 0.8
SAMPLE_SECONDS = 0.05
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the server side


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        kids = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
        return kids
    except OSError:  # no /proc/<pid>/task/*/children: scan for the parent id
        kids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                            kids.append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0


def _cpu_seconds(pid: int) -> float:
    return sum(_cpu_split(pid))


class Server:
    """One gunicorn (master + workers) on a free loopback port."""

    def __init__(self, name: str, app: str, env: dict, args, work: Path, extra: list[str] = ()):
        self.name, self.port = name, free_port()
        self.log = work / f"gunicorn-{name}.log"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.argv = [str(gunicorn if gunicorn.exists() else shutil.which("gunicorn")),
                     "--bind", f"127.0.0.1:{self.port}", "--worker-class", args.worker_class,
                     "--workers", str(args.workers), "--threads", str(args.threads),
                     "--timeout", "120", "--backlog", "2048", "--chdir", str(ROOT),
                     "--log-level", "warning", "--error-logfile", str(self.log),
                     *extra, app]
        self.env = {**os.environ, **env,
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.workers = args.workers
        self.proc: subprocess.Popen | None = None

    def start(self, ready_path: str) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name}: gunicorn exited with {self.proc.returncode}; "
                                 f"see {self.argv[self.argv.index('--error-logfile') + 1]}")
            try:
                status, _, _ = http_request(self.port, "GET", ready_path, timeout=5)
                if status < 500 and len(_children(self.proc.pid)) >= self.workers:
                    time.sleep(0.5)  # the last worker may still be loading the app
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name}: gunicorn did not answer on port {self.port} within 90 s")

    def pids(self) -> list[int]:
        return [self.proc.pid, *_children(self.proc.pid)] if self.proc else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


def machine_cpu() -> tuple[float, float, float]:
    """(busy, iowait, total) core-seconds since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    total = sum(ticks)
    return (total - ticks[3] - ticks[4]) / CLK_TCK, ticks[4] / CLK_TCK, total / CLK_TCK


class Sampler(threading.Thread):
    """RSS of a gunicorn master + workers every 50 ms (the peak of their sum and of any one process),
    their CPU seconds (per process) and the whole machine's, from /proc."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.stop_event = server, threading.Event()
        self.peak_total_kb = self.peak_one_kb = self.samples = 0
        pids = server.pids()
        self.baseline_kb = sum(_rss_kb(p) for p in pids)
        self.cpu0 = {p: _cpu_split(p) for p in pids}
        self.machine0 = machine_cpu()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        rss = [_rss_kb(p) for p in self.server.pids()]
        self.peak_total_kb = max(self.peak_total_kb, sum(rss))
        self.peak_one_kb = max(self.peak_one_kb, max(rss, default=0))
        self.samples += 1

    def finish(self) -> tuple[list[float], float, list[float]]:
        """Stop sampling. Returns the CPU seconds of each worker (master excluded; workers that
        appeared meanwhile count from 0), the workers' system (kernel) share of those, and the
        machine's [busy, iowait, total] core-seconds."""
        self.stop_event.set()
        self.join()
        self.sample()
        machine = [b - a for a, b in zip(self.machine0, machine_cpu())]
        split = [[b - a for a, b in zip(self.cpu0.get(p, (0.0, 0.0)), _cpu_split(p))]
                 for p in self.server.pids()[1:]]
        workers = [user + system for user, system in split]
        return workers, sum(system for _, system in split) / (sum(workers) or 1), machine


# ---------------------------------------------------------------- HTTP client


def http_request(port: int, method: str, path: str, *, headers: dict | None = None, body: bytes | None = None,
                 timeout: float = 60) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def hidden_value(page: str, name: str) -> str:
    for tag in re.findall(r"<input[^>]*>", page):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            value = re.search(r'\bvalue="([^"]*)"', tag)
            if value:
                return html.unescape(value.group(1))
    raise ValueError(f"no hidden input {name!r} in the page")


@dataclass
class Student:
    index: int
    user_id: int
    email: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf_token: str = ""
    idempotency_key: str = ""

    def cookie_header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def take_cookies(self, headers: http.client.HTTPMessage) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=thu, 01 jan 1970" not in raw.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)

    def get(self, port: int, path: str) -> tuple[int, str]:
        status, headers, body = http_request(port, "GET", path, headers=self.cookie_header())
        self.take_cookies(headers)
        return status, body.decode("utf-8", "replace")

    def login(self, port: int) -> None:
        status, page = self.get(port, "/login")
        if status != 200:
            raise RuntimeError(f"GET /login: {status}")
        form = urllib.parse.urlencode({"csrf_token": hidden_value(page, "csrf_token"), "login": self.email,
                                       "password": PASSWORD})
        status, headers, body = http_request(port, "POST", "/login", body=form.encode(), headers={
            **self.cookie_header(), "Content-Type": "application/x-www-form-urlencoded"})
        self.take_cookies(headers)
        if status != 302:
            raise RuntimeError(f"POST /login for {self.email}: {status} {body[:300]!r}")

    def open_assignment(self, port: int, assignment_id: int) -> None:
        status, page = self.get(port, f"/assignments/{assignment_id}")
        if status != 200:
            raise RuntimeError(f"GET /assignments/{assignment_id} for {self.email}: {status}")
        self.csrf_token = hidden_value(page, "csrf_token")
        self.idempotency_key = hidden_value(page, "idempotency_key")


@dataclass
class Payload:
    """size bytes per student: a zip signature and shared random bytes, then TAIL bytes of its own."""
    size: int
    shared: bytes
    base_digest: "hashlib._Hash"
    tag: str

    @classmethod
    def make(cls, size: int, tag: str) -> Payload:
        shared = b"PK\x03\x04" + os.urandom(size - TAIL - 4)
        return cls(size, shared, hashlib.sha256(shared), tag)

    def tail(self, student: Student) -> bytes:
        return f"\n{self.tag} student {student.index:05d} {self.size} bytes\n".encode().ljust(TAIL, b"#")

    def sha256(self, student: Student) -> str:
        digest = self.base_digest.copy()
        digest.update(self.tail(student))
        return digest.hexdigest()


BOUNDARY = "----KakehashiDeadlineSpike" + uuid.uuid4().hex


def multipart_parts(student: Student, payload: Payload) -> tuple[bytes, bytes]:
    """What a browser sends for the files form, around the file's bytes: (before, after)."""
    out = io.BytesIO()
    for name, value in (("csrf_token", student.csrf_token), ("kind", "files"),
                        ("idempotency_key", student.idempotency_key)):
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
              f'filename="s{student.index:05d}.zip"\r\nContent-Type: application/zip\r\n\r\n'.encode())
    return out.getvalue(), f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class Result:
    student: Student
    start: float = 0.0
    end: float = 0.0
    status: int = 0
    location: str = ""
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.end - self.start


def upload(port: int, path: str, student: Student, payload: Payload, offset: float, clock: dict,
           go: threading.Event, timeout: float, result: Result) -> None:
    """One student's upload: connect, send headers and body, read the answer. Never raises."""
    before, after = multipart_parts(student, payload)
    last = payload.tail(student) + after
    length = len(before) + payload.size + len(after)
    shared = memoryview(payload.shared)
    go.wait()
    time.sleep(max(0.0, clock["t0"] + offset - time.perf_counter()))
    result.start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                            "Content-Length": str(length), "Connection": "close",
                            **student.cookie_header()}.items():
            conn.putheader(name, value)
        conn.endheaders(before)
        try:
            for start in range(0, len(shared), SEND_CHUNK):
                conn.send(shared[start:start + SEND_CHUNK])
            conn.send(last)
        except OSError as exc:  # the server answered early and closed: read what it said
            result.error = f"send: {exc!r}"
        resp = conn.getresponse()
        resp.read()
        result.status, result.location = resp.status, resp.headers.get("Location", "")
    except Exception as exc:  # noqa: BLE001  a failed request is a figure, not a crash
        result.error = (result.error + "; " if result.error else "") + repr(exc)
    finally:
        result.end = time.perf_counter()
        conn.close()


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_spike(port: int, path_of, students: list[Student], payload: Payload, window: float,
              timeout: float) -> tuple[list[Result], float]:
    """All uploads, started evenly over `window` seconds. Returns the results and this process's CPU s."""
    results = [Result(s) for s in students]
    go, clock = threading.Event(), {}
    step = window / max(1, len(students) - 1)
    threads = [threading.Thread(target=upload, daemon=True,
                                args=(port, path_of(s), s, payload, i * step, clock, go, timeout, r))
               for i, (s, r) in enumerate(zip(students, results))]
    for t in threads:
        t.start()
    cpu0 = _self_cpu()
    clock["t0"] = time.perf_counter() + 0.1
    go.set()
    for t in threads:
        t.join()
    return results, _self_cpu() - cpu0


# ---------------------------------------------------------------- setup and verification


def make_app(work: Path, database_url: str):
    return migrated_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "MEDIA_ROOT": str(work / "media"),
                         "INSTANCE_PATH": str(work / "instance"), "COURSES_DIR": str(work / "courses")})


def make_world(app, n: int, sizes: list[int], repeat: int, tag: str
               ) -> tuple[list[Student], dict[tuple[int, int], int]]:
    """An offering with n enrolled students and one files assignment (zip) per file size and round.

    Users are made with create_user; the password is hashed once (real scrypt), as the tests do.
    """
    from lms.assignments.models import Assignment
    from lms.auth import services as auth_services
    from lms.auth.models import Role
    from lms.catalog.models import Course, Offering, Term
    from lms.catalog.services import enroll
    from lms.extensions import db

    saved = auth_services.hash_password
    auth_services.hash_password = functools.cache(saved)
    try:
        with app.app_context():
            term = Term(code=f"ds-{tag}", name=f"Deadline spike {tag}", starts_on=dt.date(2026, 9, 1),
                        ends_on=dt.date(2027, 1, 31))
            course = Course(code=f"DS{tag}", title_en="Deadline spike course", credits=Decimal("2"), hours=90)
            db.session.add_all([term, course])
            db.session.flush()
            offering = Offering(course_id=course.id, term_id=term.id)
            db.session.add(offering)
            db.session.flush()
            students = []
            for i in range(n):
                user, _ = auth_services.create_user(
                    email=f"ds-{tag}-{i:05d}@bench.test", name_latin=f"Student {i:05d}", role=Role.STUDENT,
                    password=PASSWORD, student_number=f"D{tag[:6]}{i:05d}")
                user.must_change_password = False
                enroll(offering, user)
                students.append(Student(i, user.id, user.email))
            assignments = {}
            for size in sizes:
                for round_ in range(repeat):
                    assignment = Assignment(
                        offering_id=offering.id, title=f"Deadline spike, {size / MB:g} MB, round {round_ + 1}",
                        kinds=["files"], allowed_extensions=["zip"], max_file_bytes=(size // MB + 1) * MB,
                        due_at=datetime.now(UTC) + timedelta(days=7), attempts_allowed=1, points=Decimal(100))
                    db.session.add(assignment)
                    db.session.flush()
                    assignments[size, round_] = assignment.id
            db.session.commit()
            db.engine.dispose()
    finally:
        auth_services.hash_password = saved
    return students, assignments


def in_pool(fn, items, workers: int = 8) -> None:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fn, items))  # re-raises the first failure


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def verify_ours(app, assignment_id: int, students: list[Student], payload: Payload, rehash: bool
                ) -> tuple[int, list[str]]:
    """Students with exactly one submission of one file of the right size and SHA-256, whose stored
    file has that size (and, with rehash, hashes to it). Returns (verified, problems)."""
    from sqlalchemy import select

    from lms.assignments.models import Submission, SubmissionFile
    from lms.extensions import db
    from lms.storage import LocalStorage

    storage = LocalStorage(app.config["MEDIA_ROOT"])
    with app.app_context():
        rows = db.session.execute(
            select(Submission.student_id, Submission.id, SubmissionFile.size, SubmissionFile.sha256,
                   SubmissionFile.storage_key)
            .outerjoin(SubmissionFile, SubmissionFile.submission_id == Submission.id)
            .where(Submission.assignment_id == assignment_id)).all()
        db.engine.dispose()
    by_student: dict[int, list] = {}
    for row in rows:
        by_student.setdefault(row.student_id, []).append(row)
    verified, problems = 0, []
    for student in students:
        mine = by_student.pop(student.user_id, [])
        if len(mine) != 1:
            problems.append(f"student {student.index}: {len(mine)} submission rows")
            continue
        row = mine[0]
        if row.size != payload.size or row.sha256 != payload.sha256(student):
            problems.append(f"student {student.index}: stored size {row.size}, sha256 {str(row.sha256)[:12]}...")
            continue
        path = storage.path(row.storage_key)
        if not path.is_file() or path.stat().st_size != payload.size or (rehash and file_sha256(path) != row.sha256):
            problems.append(f"student {student.index}: the stored file does not match its row")
            continue
        verified += 1
    if by_student:
        problems.append(f"{len(by_student)} submission(s) from users outside the benchmark")
    return verified, problems


def verify_bare(folder: Path, students: list[Student], payload: Payload) -> tuple[int, list[str]]:
    """The bare app keeps whole bodies under random names: match the files' sizes to the bodies'."""
    expected: dict[int, int] = {}
    for student in students:
        before, after = multipart_parts(student, payload)
        length = len(before) + payload.size + len(after)
        expected[length] = expected.get(length, 0) + 1
    found: dict[int, int] = {}
    for path in folder.iterdir() if folder.is_dir() else []:
        found[path.stat().st_size] = found.get(path.stat().st_size, 0) + 1
    verified = sum(min(count, found.get(length, 0)) for length, count in expected.items())
    extra = sum(found.values()) - verified
    return verified, [f"{extra} file(s) of unexpected size"] if extra else []


# ---------------------------------------------------------------- one round


@dataclass
class Round:
    server: str
    size: int
    n: int
    results: list[Result]
    ok: int
    verified: int
    problems: list[str]
    worker_cpu: list[float]
    system_share: float  # of worker_cpu, in the kernel
    machine: list[float]  # busy, iowait, total core-seconds during the spike
    client_cpu: float
    baseline_kb: int
    peak_total_kb: int
    peak_one_kb: int
    samples: int

    @property
    def server_cpu(self) -> float:
        return sum(self.worker_cpu)

    @property
    def busy(self) -> float:
        return self.machine[0] / (self.machine[2] or 1)

    @property
    def iowait(self) -> float:
        return self.machine[1] / (self.machine[2] or 1)

    @property
    def others_cpu(self) -> float:
        """Busy core-seconds not counted to the servers or the clients: other people's work on a shared
        machine, kernel threads (writeback, softirq). Large values mean the figures are noisy."""
        return max(0.0, self.machine[0] - self.server_cpu - self.client_cpu)

    @property
    def lost(self) -> int:
        return self.n - self.verified

    @property
    def wall(self) -> float:
        return max(r.end for r in self.results) - min(r.start for r in self.results)

    def accept(self, q: float) -> float:
        return percentile([r.seconds for r in self.results], q)

    @property
    def mb_per_s(self) -> float:
        return self.verified * self.size / MB / self.wall

    @property
    def per_s(self) -> float:
        return self.verified / self.wall


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def spike(server: Server, path_of, ok, students, payload, args, verify) -> Round:
    _, seen = log_problems(server.log, 0)
    sampler = Sampler(server)
    sampler.start()
    results, client_cpu = run_spike(server.port, path_of, students, payload, args.window, args.timeout)
    worker_cpu, system_share, machine = sampler.finish()
    verified, problems = verify()
    logged, _ = log_problems(server.log, seen)
    if logged:
        problems = problems + [f"{len(logged)} line(s) in {server.log.name}, first: {logged[0][:200]}"]
    statuses: dict[str, int] = {}
    for r in results:
        if not ok(r):
            label = f"HTTP {r.status}" if r.status else (r.error.split("(")[0] or "no answer")
            statuses[label] = statuses.get(label, 0) + 1
    if statuses:
        problems = [", ".join(f"{v} x {k}" for k, v in statuses.items())] + problems
        first = next(r for r in results if not ok(r))
        problems.append(f"first failure: HTTP {first.status} {first.location} {first.error}"[:300])
    return Round(server.name, payload.size, len(students), results, sum(1 for r in results if ok(r)), verified,
                 problems, worker_cpu, system_share, machine, client_cpu, sampler.baseline_kb, sampler.peak_total_kb, sampler.peak_one_kb,
                 sampler.samples)


def log_problems(log: Path, seen: int) -> tuple[list[str], int]:
    """Lines a gunicorn error log gained since `seen` lines (WARNING and up: worker timeouts, tracebacks)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return lines[seen:], len(lines)


def describe(r: Round) -> str:
    return (f"{r.ok}/{r.n} answered OK, {r.verified} verified, lost {r.lost}; wall {r.wall:.2f} s; "
            f"accept p50 {r.accept(0.5):.2f} s p95 {r.accept(0.95):.2f} s; {r.mb_per_s:.0f} MB/s; "
            f"server CPU {r.server_cpu:.1f} s (workers " + " + ".join(f"{c:.1f}" for c in r.worker_cpu)
            + f", {r.system_share:.0%} in the kernel); machine busy {r.busy:.0%} (others {r.others_cpu:.1f} CPU s), iowait {r.iowait:.0%}; peak RSS {r.peak_total_kb / 1024:.0f} MB")


def clear(folder: Path) -> None:
    """Remove a round's files (their dirty pages go with them) and flush the rest before the next round."""
    shutil.rmtree(folder, ignore_errors=True)
    os.sync()


# ---------------------------------------------------------------- where the time goes, in-process


def socket_stream(body: bytes):
    """The body as a gunicorn worker reads it: gunicorn's own reader on a socket a thread sends into."""
    from gunicorn.http.body import Body, LengthReader
    from gunicorn.http.unreader import SocketUnreader

    ours, theirs = socket.socketpair()
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * MB)
    sender = threading.Thread(target=lambda: (theirs.sendall(body), theirs.close()), daemon=True)
    sender.start()
    return Body(LengthReader(SocketUnreader(ours), len(body))), ours, sender


def stage_breakdown(app, work: Path, student: Student, payload: Payload, repeat: int = 3) -> list[tuple[str, float]]:
    """Each step of the two paths on one body in this process, single-threaded, median of `repeat`.

    CPU time of this thread (thread_time: the recv and write system calls included, the sender
    thread not), not the servers' figures (no concurrency): the CPU cost per file of each step.
    """
    from flask import request

    from lms.assignments import services
    from lms.storage import get_storage

    before, after = multipart_parts(student, payload)
    body = before + payload.shared + payload.tail(student) + after
    timings: dict[str, list[float]] = {}

    def timed(label, fn):
        t0 = time.thread_time()
        value = fn()
        timings.setdefault(label, []).append(time.thread_time() - t0)
        return value

    def bare_save():
        stream, sock, sender = socket_stream(body)
        target, remaining = work / "stage-bare", len(body)
        with target.open("wb") as out:
            while remaining and (chunk := stream.read(min(MB, remaining))):
                out.write(chunk)
                remaining -= len(chunk)
        sock.close()
        sender.join()
        target.unlink()

    for _ in range(repeat):
        timed("bare: body -> file in 1 MB reads (bare_upload.py)", bare_save)
        stream, sock, sender = socket_stream(body)
        with app.test_request_context("/assignments/0/submit", method="POST", environ_overrides={
                "wsgi.input": stream, "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}"}):
            request.max_content_length = app.config["SUBMISSION_MAX_BYTES"]
            assert request.endpoint == "assignments.submit"  # the route that spools
            timed("ours: multipart parse into the storage spool, SHA-256 on the way",
                  lambda: (request.form, request.files))
            upload_ = services.Upload(request.files["files"].stream, request.files["files"].filename)
            stored: list[str] = []
            timed("ours: store_file (type check, the spool renamed into place)",
                  lambda: services.store_file(upload_, ["zip"], payload.size + MB, stored))
            for key in stored:
                get_storage().delete(key)
        sock.close()
        sender.join()
        timed("SHA-256 of the file alone, from memory", lambda: hashlib.sha256(body).digest())
    return [(label, statistics.median(values)) for label, values in timings.items()]


# ---------------------------------------------------------------- report


def print_report(rounds: list[Round], sizes: list[int], in_flight: int, window: float) -> bool:
    """The table, the ratios and RSS per size; returns whether every target was met."""
    print()
    print(f"{'size':>6} {'server':<12} {'ok':>7} {'lost':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'wall s':>7}"
          f" {'MB/s':>7} {'subm/s':>7} {'srv CPU s':>9} {'cli CPU s':>9} {'busy':>5} {'othr s':>6} {'iowt':>5} {'RSS MB':>15}"
          f" {'1 proc':>7}")
    for r in rounds:
        rss = f"{r.baseline_kb / 1024:.0f} -> {r.peak_total_kb / 1024:.0f}"
        print(f"{r.size / MB:>4g}MB {r.server:<12} {r.ok:>3}/{r.n:<3} {r.lost:>5} {r.accept(0.5):7.2f}"
              f" {r.accept(0.95):7.2f} {r.accept(1.0):7.2f} {r.wall:7.2f} {r.mb_per_s:7.1f} {r.per_s:7.2f}"
              f" {r.server_cpu:9.1f} {r.client_cpu:9.1f} {r.busy:5.0%} {r.others_cpu:6.1f} {r.iowait:5.0%} {rss:>15} {r.peak_one_kb / 1024:7.0f}")
    print("(ok: answered 303 to a receipt (ours) / 201 (bare); lost = N - submissions verified in the database and"
          " storage; accept: connect -> response;\n MB/s and subm/s: verified files / wall; srv CPU: gunicorn workers;"
          " cli CPU: this process (the clients); busy, iowt: the whole machine's cores, from /proc/stat;"
          " othr s: busy CPU s of everything else (other work on the machine, kernel threads);\n RSS MB: master + workers"
          " before the spike -> peak during it; 1 proc: the largest single process's peak)")
    met = True
    print()
    for size in sizes:
        mine = [r for r in rounds if r.size == size and r.server == "ours"]
        bares = [r for r in rounds if r.size == size and r.server == "bare"]
        ours_mb, bare_mb = statistics.median(r.mb_per_s for r in mine), statistics.median(r.mb_per_s for r in bares)
        ratio = ours_mb / bare_mb if bare_mb else float("nan")
        lost = sum(r.lost for r in mine)
        ok = ratio >= THROUGHPUT_TARGET
        met &= ok and lost == 0
        cpu = [statistics.median(r.server_cpu / max(1, r.verified) * 1000 for r in rs) for rs in (mine, bares)]
        p50 = [statistics.median(r.accept(0.5) for r in rs) for rs in (mine, bares)]
        p95 = [statistics.median(r.accept(0.95) for r in rs) for rs in (mine, bares)]
        median = " (medians)" if len(mine) > 1 else ""
        print(f"{size / MB:g} MB{median}: throughput ours/bare {ratio:.3f} (target >= {THROUGHPUT_TARGET}: "
              f"{'met' if ok else 'NOT met'}); lost {lost} (must be 0: {'met' if lost == 0 else 'NOT met'});"
              f" accept ours/bare p50 {p50[0]:.2f}/{p50[1]:.2f} s, p95 {p95[0]:.2f}/{p95[1]:.2f} s;"
              f" server CPU per file ours {cpu[0]:.0f} ms, bare {cpu[1]:.0f} ms (bare/ours {cpu[1] / cpu[0]:.2f})")
        if len(mine) > 1:
            print("  per round, throughput ours/bare: " + ", ".join(
                f"{a.mb_per_s / b.mb_per_s:.3f}" for a, b in zip(mine, bares)))
        if max(r.wall for r in bares) < window + 0.5:
            print("  (bare finished within 0.5 s of the last upload's start: it kept up with the arrivals, so this"
                  " ratio compares ours with the arrival rate, not with bare's capacity)")
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for name in ("ours", "bare"):
            peak = {size: max(r.peak_total_kb for r in rounds if r.size == size and r.server == name) / 1024
                    for size in sizes}
            growth = peak[large] - peak[small]
            line = f"peak RSS {name}: " + ", ".join(f"{size / MB:g} MB files {peak[size]:.0f} MB" for size in sizes)
            line += f" ({growth:+.0f} MB"
            if name == "ours":
                # Holding bodies in memory would add the size difference per request in flight; allow
                # one such difference for all workers together, or 32 MB of noise, whichever is larger.
                allowed = max((large - small) / MB, 32)
                flat = growth <= allowed
                met &= flat
                line += (f"; holding each in-flight file in memory would add ~{(large - small) / MB:g} MB per "
                         f"request, up to {min(rounds[0].n, in_flight)} in flight; target not growing with file "
                         f"size (<= {allowed:g} MB): {'met' if flat else 'NOT met'})")
            else:
                line += ")"
            print(line)
    return met


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200, help="concurrent uploads (default 200)")
    parser.add_argument("--sizes", default="2,20", help="file sizes in MB, comma-separated; each is one round of "
                        "bare then ours (default 2,20; the RSS comparison needs two)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of bare then ours per size, each with "
                        "fresh servers and its own assignment; medians are reported (default 1)")
    parser.add_argument("--window", type=float, default=2.0, help="uploads start evenly over this many s (2)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, both servers (4, as deploy/)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (2, as deploy/; 1 with sync)")
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread",
                        help="gthread (default) or sync, as the project README's deployment line uses")
    parser.add_argument("--timeout", type=float, default=600, help="client socket timeout per upload, s (600)")
    parser.add_argument("--app", default="lms:create_app()", help="the WSGI app gunicorn serves as ours "
                        "(default lms:create_app()); e.g. a prototype module on PYTHONPATH wrapping it")
    parser.add_argument("--database-url", help="PostgreSQL URL instead of a throwaway SQLite file; the schema "
                        "is migrated there and the rows it adds are left behind (names carry a run tag)")
    parser.add_argument("--no-rehash", action="store_true", help="check stored files by size only, not SHA-256")
    parser.add_argument("--no-stages", action="store_true", help="skip the in-process per-step timings")
    parser.add_argument("--workdir", type=Path, help="a fresh folder is made inside it (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and the uploaded files")
    args = parser.parse_args(argv)
    if args.worker_class == "sync":
        args.threads = 1  # gunicorn would switch a sync worker with threads > 1 to gthread
    sizes = sorted({int(float(x) * MB) for x in args.sizes.split(",") if x.strip()})
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kakehashi-spike-", dir=args.workdir))
    (work / "tmp").mkdir()
    tag = uuid.uuid4().hex[:8]
    database_url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"

    import gunicorn

    started = dt.datetime.now().astimezone()
    print(f"kakehashi deadline-spike benchmark, {started:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {platform.machine()}, "
          f"Python {platform.python_version()}, gunicorn {gunicorn.__version__}; load average {_load()}")
    if os.environ.get("BARE_SHA256") == "1":
        print("BARE_SHA256=1: bare also hashes what it saves (a reference, not the limit)")
    print(f"servers: gunicorn --worker-class {args.worker_class} --workers {args.workers} --threads {args.threads} "
          f"--timeout 120 --backlog 2048, loopback; ours `{args.app}` (CSRF on), bare `bench/bare_upload.py`")
    print(f"database: {'PostgreSQL ' + database_url.rsplit('@', 1)[-1] if args.database_url else 'SQLite (WAL)'}; "
          f"{args.students} students, uploads start over {args.window:g} s; sizes "
          + ", ".join(f"{s / MB:g} MB" for s in sizes) + f"; workdir {work}")
    servers: list[Server] = []
    rounds: list[Round] = []
    try:
        t0 = time.perf_counter()
        app = make_app(work, database_url)
        students, assignments = make_world(app, args.students, sizes, args.repeat, tag)
        print(f"setup: migrations, {args.students} users enrolled, {len(assignments)} assignment(s) in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        env = {"LMS_DATABASE_URL": database_url, "LMS_SECRET_KEY": SECRET_KEY, "LMS_MEDIA_ROOT": str(work / "media"),
               "LMS_INSTANCE_PATH": str(work / "instance"), "LMS_COURSES_DIR": str(work / "courses"),
               "TMPDIR": str(work / "tmp")}
        ours = Server("ours", args.app, env, args, work)
        bare = Server("bare", "bare_upload:app", {"BARE_UPLOAD_DIR": str(work / "bare"), "TMPDIR": str(work / "tmp")},
                      args, work, extra=["--pythonpath", str(ROOT / "bench")])
        servers += [ours, bare]
        logged_in = False
        for size in sizes:
            payload = Payload.make(size, tag)
            for round_ in range(args.repeat):
                tag_ = f"[{size / MB:g} MB" + (f" {round_ + 1}/{args.repeat}]" if args.repeat > 1 else "]")
                print(f"{tag_} starting ours; " + ("" if logged_in else "logging students in, ")
                      + "opening the assignment page ...", flush=True)
                t0 = time.perf_counter()
                ours.start("/login")
                if not logged_in:
                    in_pool(lambda s: s.login(ours.port), students)
                    logged_in = True
                aid = assignments[size, round_]
                in_pool(lambda s: s.open_assignment(ours.port, aid), students)
                print(f"{tag_}     {time.perf_counter() - t0:.1f} s; ours idle during (b)", flush=True)

                bare.start("/")
                for _ in range(4 * args.workers):  # reach every worker once
                    http_request(bare.port, "POST", "/", body=b"warm-up")
                clear(work / "bare")
                print(f"{tag_} (b) bare ... (load {_load()})", flush=True)
                b = spike(bare, lambda s: "/", lambda r: r.status == 201, students, payload, args,
                          lambda: verify_bare(work / "bare", students, payload))
                bare.stop()
                rounds.append(b)
                print(f"{tag_}     {describe(b)}", flush=True)
                if not args.keep:
                    clear(work / "bare")

                print(f"{tag_} (a) ours ... (load {_load()})", flush=True)
                a = spike(ours, lambda s: f"/assignments/{aid}/submit",
                          lambda r: r.status == 303 and "/submissions/" in r.location, students, payload, args,
                          lambda: verify_ours(app, aid, students, payload, not args.no_rehash))
                ours.stop()
                rounds.append(a)
                print(f"{tag_}     {describe(a)}", flush=True)
                for name, r in (("ours", a), ("bare", b)):
                    for problem in r.problems[:5]:
                        print(f"{tag_}     {name}: {problem}")
                if not args.keep:
                    clear(work / "media" / "submissions")
        met = print_report(rounds, sizes, args.workers * args.threads, args.window)
        if not args.no_stages:
            largest = Payload.make(max(sizes), tag)
            print(f"\nwhere a {max(sizes) / MB:g} MB file's time goes, in-process, one thread, median of 3 "
                  "(CPU cost per file, not the servers' figures):")
            for label, seconds in stage_breakdown(app, work, students[0], largest):
                print(f"  {label:<78} {seconds * 1000:7.1f} ms  {largest.size / MB / seconds:7.0f} MB/s")
        print(f"\nload average at end: {_load()}; targets {'all met' if met else 'NOT all met'}")
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
