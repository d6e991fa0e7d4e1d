"""Page benchmark (issue 15): the app's pages against a bare Flask + SQLAlchemy page, side by side.

One run, on loopback, on one throwaway PostgreSQL cluster (tests/postgres.py) whose schema the
migrations built:

  data   GD101 (3 modules x 3 lessons, imported from courses/) offered this term to --students
         students with one instructor; an assignment due 20 days ago with a submission and a grade per
         student, one due in a week that two in three students handed in early; three lessons done
         per student; ART120 last term with every student's result finalized (a line on the record).
         Users, enrollments, progress, submissions and grades are Core bulk inserts (one password
         hash for all); the rest goes through the services (lms/demo.py's way).
  SQL    each page in-process (app.test_client(), logged in through /login with CSRF), one request
         after a first visit, its statements counted by a before_cursor_execute listener: with a
         cohort of 60, then again once it has grown to --students (target: the same count). Beside
         them the in-process time, split into cursor.execute and render_template, and the "floor":
         a logged-in GET /login (302), what any request costs before a view runs.
  load   two gunicorn servers with deploy/gunicorn.conf.py (gthread, --workers x --threads, by default
         GUNICORN_WORKERS x GUNICORN_THREADS or 4 x 2; GUNICORN_BIND is set to a free loopback port
         for each), on the same database: `lms:create_app()` as in production (LMS_PRODUCTION) and
         `pages:bare_app()` below, whose page runs two SQLAlchemy Core queries and returns an HTML
         string as long as the real page. Per page, bare then app, --clients keep-alive connections
         for --seconds with wrk (else delivery_load.python_run: processes of http.client threads),
         cycling through logged-in sessions (cookies from real logins, primed so they are settled).
         Prints req/s, p50/p95, wall time and the CPU seconds of the servers (/proc utime+stime of
         the gunicorn master and workers, reaped workers included), of PostgreSQL, of the load
         generator and of everything else on the shared machine; then app/bare (target >= 0.5) and
         p95 (target <= 100 ms) per page, OK or MISSED.
  --profile  cProfile of --profile-requests requests of a page in-process: top 25 by cumulative
         and by own time.

    .venv/bin/python bench/pages.py                       # 600 students, 50 clients, 10 s per page and server (~2.5 min)
    .venv/bin/python bench/pages.py --seconds 5 --profile slowest
    .venv/bin/python bench/pages.py --no-load --profile all --profile-requests 50
"""
from __future__ import annotations

import argparse
import cProfile
import contextlib
import io
import os
import platform
import pstats
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark this checkout (see bench/transcode.py); tests.postgres too

from deadline_spike import free_port, hidden_value, http_request  # noqa: E402  the benches' HTTP helpers


# ---------------------------------------------------------------- the bare page (imported by gunicorn)
# Module level imports only the standard library: the bare server must not load lms (its imports
# are inside the bench's functions).

def bare_app():
    """Plain Flask + SQLAlchemy Core: the user row by id and a course's lessons, rendered into an
    HTML string padded to the length asked for (the real page's), so both send as many bytes."""
    import html

    from flask import Flask, request
    from sqlalchemy import column, create_engine, select, table

    engine = create_engine(os.environ["BENCH_DATABASE_URL"])  # one pool per worker: no preload
    users = table("users", column("id"), column("name_latin"), column("email"), column("student_number"))
    lessons = table("lessons", column("id"), column("title_en"), column("minutes"), column("position"))
    app = Flask("bare")

    @app.get("/bare/<int:size>")
    def page(size: int):
        with engine.connect() as conn:
            user = conn.execute(select(users).where(users.c.id == request.args.get("user", 1, type=int))).first()
            rows = conn.execute(select(lessons).order_by(lessons.c.position, lessons.c.id).limit(20)).all()
        head = (f"<!doctype html><html><head><title>Bare</title></head><body><header>"
                f"{html.escape(user.name_latin if user else '')} {html.escape(user.email if user else '')}"
                f"</header><table>")
        cells = "".join(f"<tr><td>{r.id}</td><td>{html.escape(r.title_en)}</td><td>{r.minutes} min</td></tr>"
                        for r in rows) or "<tr><td></td></tr>"
        tail = "</table></body></html>"
        body = head + cells * max(1, (size - len(head) - len(tail)) // len(cells) + 1)
        return body[:max(0, size - len(tail))] + tail

    return app


# ---------------------------------------------------------------- the bench

PASSWORD = "pages-bench-Kakehashi-2026"
SECRET_KEY = "bench-pages-" + "s" * 40
SMALL_COHORT = 60
RATIO_TARGET, P95_TARGET = 0.5, 0.100
HTTPS = "https://localhost"  # in-process requests: production cookies are Secure
CLK_TCK = os.sysconf("SC_CLK_TCK")
NAMES = ["Aziz Karimov", "Malika Tursunova", "Timur Aliyev", "Dilnoza Rashidova", "Sardor Yusupov",
         "Nodira Ergasheva", "Jasur Rakhimov", "Kamola Nazarova", "Bekzod Saidov", "Madina Qodirova"]


@dataclass
class Ids:
    """What the pages are about: made once by build_base."""
    offering: int = 0
    past_offering: int = 0
    lesson: int = 0  # a lesson in the middle of the course: it has a previous and a next one
    done_lessons: list[int] = field(default_factory=list)
    assignments: list[int] = field(default_factory=list)
    instructor_email: str = ""
    registrar_id: int = 0
    program: int = 0
    password_hash: str = ""


@dataclass
class Page:
    name: str
    path: str
    role: str  # "student" or "instructor": who is logged in
    status: int = 200


def pages_of(ids: Ids) -> list[Page]:
    return [Page("home", "/", "student"),
            Page("offering", f"/offerings/{ids.offering}", "student"),
            Page("lesson", f"/offerings/{ids.offering}/lessons/{ids.lesson}", "student"),
            Page("gradebook", f"/grading/offerings/{ids.offering}/gradebook", "instructor"),
            Page("record", "/records/me", "student")]


# Not a page: what any logged-in request costs before a view does anything. GET /login answers 302
# to home after the session, the user loader and the before/after hooks (CSRF, babel, metrics,
# security headers). Measured like the pages, without a target: the ceiling of any page's ratio.
FLOOR = Page("floor", "/login", "student", 302)


def student_email(i: int) -> str:
    return f"student{i:05d}@bench.test"


# ---------------------------------------------------------------- data

def build_base(app) -> Ids:
    """Partners, program, schemes, terms, both courses from courses/, the instructor, two offerings,
    two assignments. Through the services, as the demo does (lms/demo.py)."""
    from sqlalchemy import select

    from lms.assignments.models import Assignment
    from lms.auth.models import Role
    from lms.auth.passwords import hash_password
    from lms.auth.services import create_user
    from lms.catalog import services as catalog
    from lms.catalog.importer import apply_course, read_courses
    from lms.catalog.models import Lesson, Module, PartnerUniversity, Program, StaffRole, Term
    from lms.demo import PARTNERS
    from lms.extensions import db
    from lms.records.services import ensure_default_schemes

    ids = Ids(password_hash=hash_password(PASSWORD))  # scrypt once; every student shares it
    with app.app_context():
        partners = {code: PartnerUniversity(code=code, name_en=en, name_ja=ja) for code, en, ja in PARTNERS}
        db.session.add_all(partners.values())
        db.session.flush()
        program = Program(code="jdu-game-dev", name_en="JDU Game Development", name_ja="JDU ゲーム開発学科",
                          partner_id=partners["kansai-game-tech"].id)
        now_term = Term(code="2026-autumn", name="Autumn 2026", starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 31))
        past_term = Term(code="2026-spring", name="Spring 2026", starts_on=date(2026, 2, 2), ends_on=date(2026, 6, 30))
        db.session.add_all([program, now_term, past_term])
        db.session.flush()
        ensure_default_schemes()
        courses = {spec.code: apply_course(spec) for spec in read_courses(ROOT / "courses")}
        staff = {}
        for email, name, role in (("tanaka@bench.test", "Kenji Tanaka", Role.INSTRUCTOR),
                                  ("registrar@bench.test", "Sardor Yusupov", Role.REGISTRAR)):
            staff[role], _ = create_user(email=email, name_latin=name, role=role, password=PASSWORD)
            staff[role].must_change_password = False  # else every page redirects to the password form
        current = catalog.create_offering(courses["GD101"], now_term.id)
        past = catalog.create_offering(courses["ART120"], past_term.id)
        for offering in (current, past):
            catalog.add_staff(offering, staff[Role.INSTRUCTOR], StaffRole.INSTRUCTOR)
        # One deadline passed (graded), one in a week (on the students' home page, "Coming deadlines").
        today = datetime.now(UTC).replace(hour=14, minute=0, second=0, microsecond=0)
        due = [today - timedelta(days=20), today + timedelta(days=7)]
        assignments = [Assignment(offering_id=current.id, title=title, kinds=["text"], due_at=at,
                                  instructions_md="Hand in a one-page write-up.", created_by_id=staff[Role.INSTRUCTOR].id)
                       for title, at in (("Project 1: a core loop", due[0]), ("Exercise: paper prototype", due[1]))]
        db.session.add_all(assignments)
        db.session.flush()
        lessons = db.session.scalars(select(Lesson).join(Module).where(Lesson.course_id == current.course_id)
                                     .order_by(Module.position, Lesson.position)).all()
        ids.offering, ids.past_offering, ids.program = current.id, past.id, program.id
        ids.lesson, ids.done_lessons = lessons[len(lessons) // 2].id, [x.id for x in lessons[:3]]
        ids.assignments = [a.id for a in assignments]
        ids.instructor_email, ids.registrar_id = staff[Role.INSTRUCTOR].email, staff[Role.REGISTRAR].id
        db.session.commit()
    return ids


def add_students(app, ids: Ids, start: int, stop: int) -> None:
    """Students start..stop-1: users, enrollments, progress, submissions and grades as Core bulk
    inserts (seconds, not minutes); the past offering's results submitted and finalized through the
    records services, as a registrar would."""
    from sqlalchemy import insert, select

    from lms.assignments.models import Assignment, Submission, SubmissionKind
    from lms.auth.models import Role, User
    from lms.catalog.models import Enrollment, LessonProgress, Offering
    from lms.extensions import db
    from lms.grading.models import Grade
    from lms.records.services import finalize_offering, submit_offering

    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(insert(User), [dict(
            email=student_email(i), name_latin=f"{NAMES[i % len(NAMES)]} {i}", name_kana=None, role=Role.STUDENT,
            password_hash=ids.password_hash, must_change_password=False, disabled=False,
            session_token=secrets.token_urlsafe(32), student_number=f"B26{i:05d}", program_id=ids.program,
            cohort_year=2026, created_at=now, updated_at=now) for i in range(start, stop)])
        students = db.session.execute(select(User.id, User.student_number).where(
            User.email.in_([student_email(i) for i in range(start, stop)])).order_by(User.student_number)).all()
        db.session.execute(insert(Enrollment), [dict(offering_id=o, student_id=s.id, enrolled_at=now)
                                                for s in students for o in (ids.offering, ids.past_offering)])
        enrollment_of = dict(db.session.execute(select(Enrollment.student_id, Enrollment.id).where(
            Enrollment.offering_id == ids.offering, Enrollment.student_id.in_([s.id for s in students]))).all())
        db.session.execute(insert(LessonProgress), [dict(
            enrollment_id=enrollment_of[s.id], lesson_id=lesson, opened_at=now - timedelta(days=20),
            completed_at=now - timedelta(days=19)) for s in students for lesson in ids.done_lessons])
        due = dict(db.session.execute(select(Assignment.id, Assignment.due_at).where(
            Assignment.id.in_(ids.assignments))).all())
        db.session.execute(insert(Submission), [dict(
            assignment_id=a, student_id=s.id, attempt=1, kind=SubmissionKind.TEXT,
            text="My core loop: explore, collect, build, defend. " * 4, submitted_at=due[a] - timedelta(hours=3),
            due_at=due[a], late_seconds=0, penalty_percent=Decimal(0), idempotency_key=uuid.uuid4().hex)
            for n, s in enumerate(students, start) for a in ids.assignments
            if a == ids.assignments[0] or n % 3])  # the coming one: two in three handed in early
        graded = ids.assignments[0]
        submission_of = dict(db.session.execute(select(Submission.student_id, Submission.id).where(
            Submission.assignment_id == graded, Submission.student_id.in_([s.id for s in students]))).all())
        db.session.execute(insert(Grade), [dict(
            assignment_id=graded, student_id=s.id, submission_id=submission_of[s.id],
            raw_score=Decimal(55 + (n * 37) % 45), penalty_percent=Decimal(0), penalty_overridden=False,
            rubric_levels={}, comment="Clear loop; tighten the reward step.", version=1, created_at=now,
            updated_at=now) for n, s in enumerate(students, start)])
        past = db.session.get(Offering, ids.past_offering)
        chosen = {s.id for s in students}
        others = set(db.session.scalars(select(Enrollment.student_id).where(
            Enrollment.offering_id == past.id))) - chosen  # finalized in an earlier call
        submit_offering(past, {sid: Decimal(60 + sid % 40) for sid in chosen}, ids.registrar_id, excluded=others)
        finalize_offering(past, ids.registrar_id)
        db.session.commit()


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


# ---------------------------------------------------------------- in-process: statements, time, profile

class Counter:
    """While `active`: the statements on the app's engine, (SQL, parameters) of each; the seconds
    spent in cursor.execute (the round trip and PostgreSQL's work, not the ORM's); and the seconds in
    render_template (the template, with any lazy loads it triggers)."""

    def __init__(self, app):
        from flask import before_render_template, template_rendered
        from sqlalchemy import event

        from lms.extensions import db

        with app.app_context():  # only to reach the engine; requests run outside this context
            engine = db.engine
        self.active, self.seen, self.sql, self.template = False, [], 0.0, 0.0
        self._sql_t0 = self._tpl_t0 = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        before_render_template.connect(self._tpl_start, app)
        template_rendered.connect(self._tpl_end, app)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.seen.append((statement, repr(parameters)))
            self._sql_t0 = time.perf_counter()

    def _after(self, *_args):
        if self.active:
            self.sql += time.perf_counter() - self._sql_t0

    def _tpl_start(self, *_args, **_kw):
        self._tpl_t0 = time.perf_counter()

    def _tpl_end(self, *_args, **_kw):  # sent after the outermost template (base.html included) rendered
        if self.active:
            self.template += time.perf_counter() - self._tpl_t0

    @contextlib.contextmanager
    def counting(self):
        self.seen, self.sql, self.template, self.active = [], 0.0, 0.0, True
        try:
            yield self
        finally:
            self.active = False


class InProcess:
    """test_client()s of the in-process app, logged in through /login with CSRF, as a browser is.
    Each request runs in its own app context (none is pushed here), so nothing is shared between
    requests that would not be shared under gunicorn (the session, `g`, the identity map)."""

    def __init__(self, app, ids: Ids):
        self.app, self.counter = app, Counter(app)
        self.clients = {"student": self._login(student_email(0)), "instructor": self._login(ids.instructor_email)}

    def _login(self, email: str):
        client = self.app.test_client()
        page = client.get("/login", base_url=HTTPS).get_data(as_text=True)
        # Over HTTPS Flask-WTF also wants a same-origin Referer (WTF_CSRF_SSL_STRICT), as browsers send.
        r = client.post("/login", base_url=HTTPS, headers={"Referer": HTTPS + "/login"},
                        data={"csrf_token": hidden_value(page, "csrf_token"), "login": email, "password": PASSWORD})
        if r.status_code != 302:
            raise SystemExit(f"in-process login as {email}: {r.status_code}")
        return client

    def get(self, page: Page):
        r = self.clients[page.role].get(page.path, base_url=HTTPS)
        if r.status_code != page.status:
            raise SystemExit(f"in-process GET {page.path}: {r.status_code}")
        return r

    def statements(self, page: Page) -> list[tuple[str, str]]:
        self.get(page)  # first visit: the lesson page records the opening, a form puts a token in the session
        with self.counter.counting() as counted:
            self.get(page)
        return counted.seen

    def ms_per_request(self, page: Page, n: int = 15) -> tuple[float, float, float]:
        """Medians of n requests, in ms: the whole request, its SQL round trips, its template."""
        total, sql, template = [], [], []
        for _ in range(n):
            with self.counter.counting() as c:
                t0 = time.perf_counter()
                self.get(page)
                total.append(time.perf_counter() - t0)
            sql.append(c.sql)
            template.append(c.template)
        return tuple(statistics.median(x) * 1000 for x in (total, sql, template))


def repeated(statements: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Statements sent more than once with the same parameters in one request: (times, SQL)."""
    counts: dict[tuple[str, str], int] = {}
    for s in statements:
        counts[s] = counts.get(s, 0) + 1
    return [(n, " ".join(sql.split())) for (sql, _), n in counts.items() if n > 1]


def profile(inproc: InProcess, page: Page, requests: int) -> None:
    inproc.get(page)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(requests):
        inproc.get(page)
    prof.disable()
    wall = time.perf_counter() - t0
    print(f"\n=== cProfile: {page.name} ({page.path}), {requests} requests in-process, "
          f"{wall / requests * 1000:.1f} ms each (profiled) ===")
    site = next((p for p in sys.path if p.endswith("site-packages")), "\0")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(order).print_stats(25)
        text = out.getvalue().replace(site + "/", "").replace(str(ROOT) + "/", "")  # site-packages is under ROOT
        print(f"--- top 25 by {order} ---")
        print(text[text.find("   ncalls"):].rstrip())


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10, help="per page and server")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", "4")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "2")))
    parser.add_argument("--sessions", type=int, default=16, help="logged-in students the load cycles through")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--no-load", action="store_true", help="in-process figures only (no gunicorn)")
    parser.add_argument("--profile", default="none", help="none, slowest, all, or a page name")
    parser.add_argument("--profile-requests", type=int, default=50)
    parser.add_argument("--sql", action="store_true", help="print every statement of each page")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kakehashi-pages-"))
    # As under gunicorn (deploy/gunicorn.conf.py sets it): prometheus_client picks its multiprocess
    # value class at import, and each observation then writes to a file: the in-process figures pay it too.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(work / "metrics")
    (work / "metrics").mkdir()
    from benchlib import migrated_app
    from delivery_load import python_run, wrk_run
    from lms.credentials.keys import generate_key
    from tests.postgres import PostgresCluster

    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.students} students, {args.clients} clients, "
          f"{args.seconds:g} s per page and server, gunicorn gthread {args.workers} x {args.threads}, "
          f"load by {args.client}")
    cluster, servers = PostgresCluster(), []
    t_start = time.perf_counter()
    try:
        url = cluster.start()
        generate_key(work / "issuer-keys")  # production refuses to start without an issuer key
        config = {"PRODUCTION": True, "SECRET_KEY": SECRET_KEY, "DATABASE_URL": url,
                  "INSTANCE_PATH": str(work / "instance"), "MEDIA_ROOT": str(work / "media"),
                  "ISSUER_KEY_DIR": str(work / "issuer-keys"), "COURSES_DIR": str(ROOT / "courses")}
        app = migrated_app(config)
        ids = build_base(app)
        pages = pages_of(ids)
        sizes = sorted({min(SMALL_COHORT, args.students), args.students})
        counts: dict[int, dict[str, list]] = {}
        inproc, made = None, 0
        for size in sizes:
            t0 = time.perf_counter()
            add_students(app, ids, made, size)
            made = size
            print(f"cohort of {size}: made in {time.perf_counter() - t0:.1f} s")
            inproc = inproc or InProcess(app, ids)
            counts[size] = {p.name: inproc.statements(p) for p in pages}
        print_statements(pages, counts, inproc, args.sql)

        results: dict[tuple[str, str], dict] = {}
        if not args.no_load:
            results = load_phase(args, work, url, ids, pages + [FLOOR], servers, wrk_run if args.client == "wrk" else python_run,
                                 postmaster_pid(cluster))
        print_targets(pages + [FLOOR], counts, results, args)
        for server in servers:
            server.stop()
        servers.clear()

        if args.profile != "none":
            chosen = choose_profiled(args.profile, pages, results, inproc)
            for page in chosen:
                profile(inproc, page, args.profile_requests)
        print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"total {time.perf_counter() - t_start:.0f} s")
    finally:
        for server in servers:
            server.stop()
        cluster.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def print_statements(pages, counts, inproc, show_sql: bool) -> None:
    sizes = sorted(counts)
    print("\nSQL statements per request (in-process, one request after a first visit), and in-process time\n"
          "(median of 15; SQL = time in cursor.execute, tmpl = render_template, lazy loads in it included):")
    print(f"{'page':<10}" + "".join(f"{'@' + str(n):>7}" for n in sizes)
          + f"{'ms/req':>8}{'SQL ms':>8}{'tmpl ms':>8}  repeated in one request")
    for page in pages:
        big = counts[sizes[-1]][page.name]
        again = "; ".join(f"{n}x {sql[:90]}" for n, sql in repeated(big)) or "-"
        total, sql_ms, template_ms = inproc.ms_per_request(page)
        print(f"{page.name:<10}" + "".join(f"{len(counts[n][page.name]):>7}" for n in sizes)
              + f"{total:>8.1f}{sql_ms:>8.1f}{template_ms:>8.1f}  {again}")
        if show_sql:
            for sql, params in big:
                print(f"    {' '.join(sql.split())[:160]}  {params[:80]}")
    total, sql_ms, template_ms = inproc.ms_per_request(FLOOR)
    print(f"{'(floor)':<10}" + "".join(f"{len(inproc.statements(FLOOR)):>7}" for _ in sizes)
          + f"{total:>8.1f}{sql_ms:>8.1f}{template_ms:>8.1f}  a logged-in GET /login: 302, no view work")


def load_phase(args, work: Path, url: str, ids: Ids, pages: list[Page], servers: list, load, db_pid: int) -> dict:
    from sqlalchemy import create_engine, text

    env = {"LMS_PRODUCTION": "true", "LMS_SECRET_KEY": SECRET_KEY, "LMS_DATABASE_URL": url,
           "LMS_INSTANCE_PATH": str(work / "instance"), "LMS_MEDIA_ROOT": str(work / "media"),
           "LMS_ISSUER_KEY_DIR": str(work / "issuer-keys"), "LMS_COURSES_DIR": str(ROOT / "courses"),
           "BENCH_DATABASE_URL": url}
    ours = Gunicorn("app", "lms:create_app()", env, args, work)
    bare = Gunicorn("bare", "pages:bare_app()", env, args, work)
    servers += [ours, bare]
    t0 = time.perf_counter()
    ours.start("/login")
    bare.start("/bare/100")
    print(f"\nservers up in {time.perf_counter() - t0:.1f} s (app port {ours.port}, bare port {bare.port})")

    # Several browsers: students spread over the cohort, and the instructor logged in a few times.
    step = max(1, args.students // args.sessions)
    sessions = {"student": [Session(student_email(i)) for i in range(0, args.students, step)][:args.sessions],
                "instructor": [Session(ids.instructor_email) for _ in range(4)]}
    engine = create_engine(url)
    with engine.connect() as conn:
        for role, group in sessions.items():
            for s in group:
                s.user_id = conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": s.email}).scalar_one()
    engine.dispose()
    t0 = time.perf_counter()
    body_size: dict[str, int] = {}
    for role, group in sessions.items():
        for s in group:
            s.login(ours.port)
            for path, n in s.prime(ours.port, [p for p in pages if p.role == role]).items():
                body_size[path] = max(body_size.get(path, 0), n)
    unsettled = [s.email for g in sessions.values() for s in g if s.set_cookie_after_priming]
    print(f"{sum(map(len, sessions.values()))} sessions logged in and primed in {time.perf_counter() - t0:.1f} s"
          + (f"; still setting cookies on every request: {', '.join(unsettled)}" if unsettled else ""))

    def app_reqs(page: Page):
        return [(page.path, s.header()) for s in sessions[page.role]]

    def bare_reqs(page: Page):
        return [(f"/bare/{body_size[page.path]}?user={s.user_id}", {}) for s in sessions[page.role]]

    # Warm every worker (templates compiled, pools filled, first imports) before anything is timed.
    load(ours.port, [r for p in pages for r in app_reqs(p)], args.clients, 3, work)
    load(bare.port, [r for p in pages for r in bare_reqs(p)], args.clients, 2, work)

    results = {}
    print(f"\n{'page':<10} {'server':<6} {'bytes':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'wall s':>7} "
          f"{'srv CPU s':>9} {'CPU ms/req':>10} {'db CPU s':>8} {'client s':>8} {'other s':>8} {'restarts':>8} errors")
    for page in pages:
        for name, server, reqs, status in (("bare", bare, bare_reqs(page), 200),
                                           ("app", ours, app_reqs(page), page.status)):
            r = run_load(load, server, db_pid, reqs, args, work, body_size[page.path], status)
            results[page.name, name] = r
            print(f"{page.name:<10} {name:<6} {body_size[page.path]:>7} {r['rps']:>8.1f} {r['p50'] * 1000:>8.1f} "
                  f"{r['p95'] * 1000:>8.1f} {r['seconds']:>7.1f} {r['server_cpu']:>9.2f} "
                  f"{r['server_cpu'] / max(1, r['requests']) * 1000:>10.2f} {r['db_cpu']:>8.2f} {r['client_cpu']:>8.2f} "
                  f"{r['other_cpu']:>8.2f} {r['restarts']:>8} {r['errors']}{'  ' + r['note'] if 'note' in r else ''}",
                  flush=True)
    return results


def print_targets(pages, counts, results, args) -> None:
    sizes = sorted(counts)
    print(f"\nTargets: app/bare req/s >= {RATIO_TARGET}, app p95 <= {P95_TARGET * 1000:.0f} ms at {args.clients} "
          f"clients, statements constant in cohort size ({' vs '.join(map(str, sizes))})")
    print(f"{'page':<10} {'app/bare':>8} {'':>7} {'CPU/req':>8} {'p95 ms':>8} {'':>7} {'SQL':>11} {'':>7}")
    for page in pages:
        if page is FLOOR:  # no target: the ceiling of any page's ratio
            app, bare = results.get((page.name, "app")), results.get((page.name, "bare"))
            if app and bare:
                print(f"{'(floor)':<10} {app['rps'] / max(1e-9, bare['rps']):>8.2f} {'':>7} "
                      f"{app['server_cpu'] / max(1, app['requests']) / max(1e-9, bare['server_cpu'] / max(1, bare['requests'])):>7.1f}x "
                      f"{app['p95'] * 1000:>8.1f}          a logged-in 302: what every page pays")
            continue
        sql = [len(counts[n][page.name]) for n in sizes]
        constant = "OK" if len(set(sql)) == 1 else "MISSED"
        if len(sizes) == 1:
            constant = "n/a (one size)"
        app, bare = results.get((page.name, "app")), results.get((page.name, "bare"))
        if app and bare:
            ratio = app["rps"] / bare["rps"] if bare["rps"] else 0
            cpu = (app["server_cpu"] / max(1, app["requests"])) / (bare["server_cpu"] / max(1, bare["requests"]) or 1)
            ok_ratio = "OK" if ratio >= RATIO_TARGET and not app["errors"] else "MISSED"
            ok_p95 = "OK" if app["p95"] <= P95_TARGET and not app["errors"] else "MISSED"
            print(f"{page.name:<10} {ratio:>8.2f} {ok_ratio:>7} {cpu:>7.1f}x {app['p95'] * 1000:>8.1f} {ok_p95:>7} "
                  f"{' -> '.join(map(str, sql)):>11} {constant:>7}")
        else:
            print(f"{page.name:<10} {'-':>8} {'':>7} {'-':>8} {'-':>8} {'':>7} {' -> '.join(map(str, sql)):>11} {constant:>7}")


def choose_profiled(choice: str, pages: list[Page], results: dict, inproc: InProcess) -> list[Page]:
    if choice == "all":
        return pages
    if choice == "slowest":
        if results:  # the lowest throughput ratio under load
            return [min(pages, key=lambda p: results[p.name, "app"]["rps"] / max(1e-9, results[p.name, "bare"]["rps"]))]
        return [max(pages, key=lambda p: inproc.ms_per_request(p)[0])]
    named = [p for p in pages if p.name == choice]
    if not named:
        raise SystemExit(f"--profile: no page {choice!r}; pages: {', '.join(p.name for p in pages)}")
    return named


if __name__ == "__main__":
    main()
