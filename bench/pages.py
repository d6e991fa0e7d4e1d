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
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark this checkout (see bench/transcode.py); tests.postgres too

from deadline_spike import hidden_value  # noqa: E402  the benches' HTTP helpers
from pages_data import FLOOR, PASSWORD, Ids, Page, add_students, build_base, pages_of, student_email  # noqa: E402
from pages_http import Gunicorn, Session, machine_line, postmaster_pid, run_load, work_folder  # noqa: E402


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

SECRET_KEY = "bench-pages-" + "s" * 40
SMALL_COHORT = 60
RATIO_TARGET, P95_TARGET = 0.5, 0.100
HTTPS = "https://localhost"  # in-process requests: production cookies are Secure


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


def cpu_and_calls(get, n: int) -> tuple[float, float]:
    """This process's CPU ms per request (process_time: what the server spends, not the wait for
    PostgreSQL) over n requests after two warm-ups, and Python function calls per request (counted
    by cProfile over 10 more: the same count on a busy machine as on an idle one)."""
    get(), get()
    t0 = time.process_time()
    for _ in range(n):
        get()
    cpu = (time.process_time() - t0) / n * 1000
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(10):
        get()
    prof.disable()
    return cpu, pstats.Stats(prof).total_calls / 10


def print_in_process_vs_bare(inproc: InProcess, pages: list[Page], n: int) -> None:
    """Both apps in this process through test_client(), each page beside the bare page of its size:
    a figure that a shared machine's other work disturbs far less than throughput under load."""
    bare = bare_app().test_client()
    print(f"\nIn-process, app vs bare page of the same size ({n} requests each; CPU = process_time; calls =\n"
          f"Python function calls per request; bare/app is the ratio the throughput target asks of the load run):")
    print(f"{'page':<10}{'bytes':>8}{'bare CPU ms':>12}{'app CPU ms':>11}{'bare/app':>9}"
          f"{'bare calls':>11}{'app calls':>10}{'bare/app':>9}")
    for page in pages:
        size = len(inproc.get(page).get_data())
        b_cpu, b_calls = cpu_and_calls(lambda: bare.get(f"/bare/{size}?user=1"), n)
        a_cpu, a_calls = cpu_and_calls(lambda: inproc.get(page), n)
        print(f"{page.name:<10}{size:>8}{b_cpu:>12.2f}{a_cpu:>11.2f}{b_cpu / a_cpu:>9.2f}"
              f"{b_calls:>11.0f}{a_calls:>10.0f}{b_calls / a_calls:>9.2f}")


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
    parser.add_argument("--in-process-requests", type=int, default=100, help="per page and app, in-process")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()

    work = work_folder("kakehashi-pages-")
    from benchlib import migrated_app, production_config
    from delivery_load import python_run, wrk_run
    from tests.postgres import PostgresCluster

    print(f"{machine_line()}; {args.students} students, {args.clients} clients, "
          f"{args.seconds:g} s per page and server, gunicorn gthread {args.workers} x {args.threads}, "
          f"load by {args.client}")
    cluster, servers = PostgresCluster(), []
    t_start = time.perf_counter()
    try:
        url = cluster.start()
        config = production_config(work, url, SECRET_KEY=SECRET_KEY)
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
        os.environ["BENCH_DATABASE_URL"] = url  # the bare page's database, in-process and under gunicorn
        print_in_process_vs_bare(inproc, pages + [FLOOR], args.in_process_requests)

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
