"""Portfolio benchmark (issue 18): the public portfolio page against a bare Flask page, side by side.

One run, on loopback, on one throwaway PostgreSQL cluster (tests/postgres.py) migrated by
benchlib.migrated_app: a student with 20 released, graded pieces of work (10 texts, 6 image files,
4 links) in a portfolio with titles and Markdown descriptions in Japanese and English, each piece's
credential signed by the worker, and one public link. Then:

  in-process  statements per view of /p/<token> (a second view, counted by a before_cursor_execute
              listener), and CPU ms and Python function calls per request, app vs the bare page of
              the same length (bench/pages.py's bare_app: two SQLAlchemy Core queries and a string);
  load        both under gunicorn with deploy/gunicorn.conf.py (gthread --workers x --threads), 50
              anonymous keep-alive clients (wrk, else processes of http.client threads) for --seconds
              each: req/s, p50/p95, server CPU per request; app/bare (target >= 0.5) and p95 (target
              <= 100 ms on an idle machine), each OK or MISSED.

    .venv/bin/python bench/portfolio.py                 # 10 s per server (~1 min)
    .venv/bin/python bench/portfolio.py --no-load       # in-process figures only
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pages import P95_TARGET, RATIO_TARGET, SECRET_KEY, bare_app, cpu_and_calls  # noqa: E402
from pages_http import Gunicorn, machine_line, postmaster_pid, run_load, work_folder  # noqa: E402

PIECES = 20


def build(app) -> tuple[str, int]:
    """The student's portfolio with PIECES pieces and a public link: (its path, the student's id)."""
    from lms.assignments.models import Assignment, Submission, SubmissionFile, SubmissionKind
    from lms.auth.models import Role
    from lms.auth.services import create_user
    from lms.catalog import services as catalog
    from lms.catalog.importer import apply_course, read_courses
    from lms.catalog.models import PartnerUniversity, StaffRole, Term
    from lms.demo import PARTNERS
    from lms.extensions import db
    from lms.grading import services as grading
    from lms.jobs.worker import Worker
    from lms.portfolio import services as portfolio
    from lms.storage import get_storage
    from tests.images import image_bytes

    with app.app_context():
        db.session.add_all(PartnerUniversity(code=c, name_en=en, name_ja=ja) for c, en, ja in PARTNERS)
        term = Term(code="2026-autumn", name="Autumn 2026", starts_on=datetime(2026, 9, 1).date(),
                    ends_on=datetime(2027, 1, 31).date())
        db.session.add(term)
        db.session.flush()
        courses = [apply_course(spec) for spec in read_courses(ROOT / "courses")]
        teacher, _ = create_user(email="tanaka@bench.test", name_latin="Kenji Tanaka", role=Role.INSTRUCTOR,
                                 password="bench-Kakehashi-2026")
        student, _ = create_user(email="malika@bench.test", name_latin="Malika Tursunova", name_kana="マリカ",
                                 role=Role.STUDENT, password="bench-Kakehashi-2026", student_number="B2600001")
        offerings = [catalog.create_offering(course, term.id) for course in courses]
        for offering in offerings:
            catalog.add_staff(offering, teacher, StaffRole.INSTRUCTOR)
            catalog.enroll(offering, student)
        released = datetime.now(UTC) - timedelta(days=3)
        kinds = [SubmissionKind.TEXT] * 10 + [SubmissionKind.FILES] * 6 + [SubmissionKind.LINK] * 4
        png = image_bytes("PNG", (320, 180))
        mine = portfolio.portfolio_of(student.id, create=True)
        for n, kind in enumerate(kinds):
            assignment = Assignment(offering_id=offerings[n % len(offerings)].id, title=f"Project {n + 1}: level {n}",
                                    kinds=[kind.value], due_at=released - timedelta(days=7), released_at=released,
                                    portfolio_feedback=n % 2 == 0, created_by_id=teacher.id)
            db.session.add(assignment)
            db.session.flush()
            submission = Submission(assignment_id=assignment.id, student_id=student.id, attempt=1, kind=kind,
                                    text="A level built around one mechanic: " * 8 if kind == SubmissionKind.TEXT else None,
                                    url=f"https://malika.itch.io/level-{n}" if kind == SubmissionKind.LINK else None,
                                    due_at=assignment.due_at, submitted_at=assignment.due_at - timedelta(hours=5),
                                    idempotency_key=uuid.uuid4().hex)
            db.session.add(submission)
            db.session.flush()
            if kind == SubmissionKind.FILES:
                key = f"submissions/{submission.id}/level.png"
                get_storage().put_bytes(key, png, content_type="image/png")
                db.session.add(SubmissionFile(submission_id=submission.id, storage_key=key, filename="level.png",
                                              size=len(png), sha256="0" * 64, media_type="image/png"))
            grading.save_grade(assignment, student, teacher, raw_score=Decimal(70 + n), submission=submission,
                               comment="Strong readability; the second room teaches the jump well.")
            piece = portfolio.add_piece(mine, submission.id)
            portfolio.update_piece(piece, title_en=f"Level {n + 1}", title_ja=f"レベル{n + 1}：一つの仕組み",
                                   description_en="Built in **Unity**; playtested with 5 classmates.",
                                   description_ja="**Unity** で制作し、クラスメート5人でプレイテスト。",
                                   show_grade=n % 2 == 0, show_feedback=n % 4 == 0)
        portfolio.update_settings(mine, headline_en="Level designer", headline_ja="レベルデザイナー",
                                  show_email=False, show_student_number=False, hidden=False)
        link = portfolio.create_link(mine, "bench", None)
        db.session.commit()
        path, student_id = f"/p/{link.token}", student.id
    Worker(app).run(drain=True)  # signs the pieces' credentials: the page shows a Verify button each
    return path, student_id


def statements(app, path: str) -> int:
    from sqlalchemy import event

    from lms.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.get(path, base_url="https://localhost")

    def count(*_args):
        seen.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(path, base_url="https://localhost")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", "4")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "2")))
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--in-process-requests", type=int, default=100)
    args = parser.parse_args()

    work = work_folder("kakehashi-portfolio-")
    from benchlib import migrated_app, production_config
    from delivery_load import python_run, wrk_run
    from tests.postgres import PostgresCluster

    print(f"{machine_line()}; {PIECES} pieces, {args.clients} anonymous clients, "
          f"{args.seconds:g} s per server, gunicorn gthread {args.workers} x {args.threads}, load by {args.client}")
    cluster, servers = PostgresCluster(), []
    t_start = time.perf_counter()
    try:
        url = cluster.start()
        os.environ["BENCH_DATABASE_URL"] = url
        app = migrated_app(production_config(work, url, SECRET_KEY=SECRET_KEY))
        path, student_id = build(app)
        client, bare = app.test_client(), bare_app().test_client()
        size = len(client.get(path, base_url="https://localhost").get_data())
        bare_path = f"/bare/{size}?user={student_id}"
        a_cpu, a_calls = cpu_and_calls(lambda: client.get(path, base_url="https://localhost"), args.in_process_requests)
        b_cpu, b_calls = cpu_and_calls(lambda: bare.get(bare_path), args.in_process_requests)
        print(f"\nIn-process: the page is {size:,} bytes, {statements(app, path)} statements per view; "
              f"CPU {a_cpu:.2f} ms vs bare {b_cpu:.2f} ms (bare/app {b_cpu / a_cpu:.2f}); "
              f"function calls {a_calls:.0f} vs {b_calls:.0f} (bare/app {b_calls / a_calls:.2f})")
        if args.no_load:
            return
        env = {"LMS_PRODUCTION": "true", "LMS_SECRET_KEY": SECRET_KEY, "LMS_DATABASE_URL": url,
               "LMS_INSTANCE_PATH": str(work / "instance"), "LMS_MEDIA_ROOT": str(work / "media"),
               "LMS_ISSUER_KEY_DIR": str(work / "issuer-keys"), "BENCH_DATABASE_URL": url}
        ours, plain = Gunicorn("app", "lms:create_app()", env, args, work), Gunicorn("bare", "pages:bare_app()", env, args, work)
        servers += [ours, plain]
        ours.start("/login")
        plain.start("/bare/100")
        load = wrk_run if args.client == "wrk" else python_run
        load(ours.port, [(path, {})], args.clients, 3, work)  # warm both: templates, pools, imports
        load(plain.port, [(bare_path, {})], args.clients, 2, work)
        db_pid = postmaster_pid(cluster)
        results = {}
        print(f"\n{'server':<6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'wall s':>7} {'srv CPU s':>9} "
              f"{'CPU ms/req':>10} {'db CPU s':>8} {'other s':>8} errors")
        for name, server, req in (("bare", plain, bare_path), ("app", ours, path)):
            r = results[name] = run_load(load, server, db_pid, [(req, {})], args, work, size)
            print(f"{name:<6} {r['rps']:>8.1f} {r['p50'] * 1000:>8.1f} {r['p95'] * 1000:>8.1f} {r['seconds']:>7.1f} "
                  f"{r['server_cpu']:>9.2f} {r['server_cpu'] / max(1, r['requests']) * 1000:>10.2f} "
                  f"{r['db_cpu']:>8.2f} {r['other_cpu']:>8.2f} {r['errors']}{'  ' + r['note'] if 'note' in r else ''}")
        app_r, bare_r = results["app"], results["bare"]
        ratio = app_r["rps"] / bare_r["rps"] if bare_r["rps"] else 0
        print(f"\nTargets: app/bare req/s {ratio:.2f} (>= {RATIO_TARGET}: "
              f"{'OK' if ratio >= RATIO_TARGET and not app_r['errors'] else 'MISSED'}), "
              f"app p95 {app_r['p95'] * 1000:.0f} ms (<= {P95_TARGET * 1000:.0f} ms: "
              f"{'OK' if app_r['p95'] <= P95_TARGET and not app_r['errors'] else 'MISSED'})")
    finally:
        for server in servers:
            server.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
        print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"total {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
