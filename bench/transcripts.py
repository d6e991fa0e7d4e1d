"""Transcript export benchmark: 600 students x 40 course results in a throwaway SQLite database.

Prints the time to compute every student's record (`record.student_records`, one batch), to export the cohort
as CSV and as signed CLR 2.0 transcripts (the export job's zip: status bits reserved, each CLR signed
with VC-JOSE, stored; each including its own record computations, as the job does), the signed
Open Badges 3.0 batch of passed courses (eddsa-rdfc-2022, the badge job; a sample, per badge,
beside bare Ed25519 on the same bytes and the whole cohort's figure extrapolated),
the PDF time per student on three paths (one student at a time, as the download of one transcript
does; the cohort export job's zip of PDFs in one process; the same job with its process pool), and
peak memory. Every PDF line gives wall time and CPU time per student; the pool's CPU time adds its
worker processes' (their start-up included). Targets: records + CSV + signed CLR < 10 s (issue 14),
PDF <= 0.2 s per student (issue 6). Run from the project root:

    .venv/bin/python bench/transcripts.py [--students 600] [--courses 40] [--badges 1000] [--pdf-sample 20] [--pdf-cohort 100] [--processes N]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def build(app, students: int, courses: int) -> int:
    """Rows inserted in bulk (Core inserts, not timed): returns the program id."""
    from lms.auth.models import User
    from lms.catalog.models import Course, Offering, PartnerUniversity, Program, Term
    from lms.extensions import db
    from lms.records import snapshot
    from lms.records.models import CreditRule, FinalResult, JapaneseGradeScheme
    from types import SimpleNamespace

    rng = random.Random(6)
    partner = PartnerUniversity(code="kgt", name_en="Kansai", name_ja="関西大学")
    db.session.add(partner)
    db.session.flush()
    program = Program(code="GD", name_en="Game Development", name_ja="ゲーム開発", partner_id=partner.id)
    db.session.add(program)
    db.session.flush()
    scheme = JapaneseGradeScheme(partner_id=partner.id, version=1, name="Kansai GPA",
                                 bands=[["90", "S"], ["80", "A"], ["70", "B"], ["60", "C"], ["0", "F"]],
                                 points={"S": "4", "A": "3", "B": "2", "C": "1", "F": "0"}, passing=["S", "A", "B", "C"])
    rule = CreditRule(program_id=program.id, version=1, name="By workload", factor=Decimal("1.5"), source="JDU",
                      recognised_factor=Decimal("1.5"))
    db.session.add_all([scheme, rule])
    db.session.flush()
    terms = []
    for n in range(8):
        year, autumn = 2026 + n // 2, n % 2 == 0
        terms.append(Term(code=f"t{n}", name=f"{'Autumn' if autumn else 'Spring'} {year}",
                          starts_on=date(year, 9, 1) if autumn else date(year + 1, 4, 1),
                          ends_on=date(year + 1, 1, 31) if autumn else date(year + 1, 7, 31)))
    db.session.add_all(terms)
    db.session.flush()
    offerings = []
    for n in range(courses):
        course = Course(code=f"GD{n:03d}", title_en=f"Oʻyin dizayni {n}", title_ja=f"ゲームデザイン{n}",
                        credits=Decimal(rng.choice([1, 2, 2, 4])), hours=90, partner_id=partner.id)
        db.session.add(course)
        db.session.flush()
        offering = Offering(course_id=course.id, term_id=terms[n % len(terms)].id)
        db.session.add(offering)
        offerings.append(offering)
    db.session.flush()
    db.session.execute(User.__table__.insert(), [
        {"email": f"s{n}@bench.test", "name_latin": f"Gʻulom Oʻrinov {n}", "name_kana": "グロム・オリノフ",
         "role": "student", "password_hash": "x", "must_change_password": False, "disabled": False,
         "session_token": f"tok{n:06d}", "student_number": f"JDU{n:05d}", "program_id": program.id,
         "cohort_year": 2026} for n in range(students)])
    ids = list(db.session.scalars(User.__table__.select().with_only_columns(User.id).order_by(User.id)))
    db.session.flush()
    for o in offerings:
        db.session.refresh(o)

    def row(sid, o):
        raw = Decimal(rng.randint(4500, 10000)) / 100
        frozen = snapshot.freeze(SimpleNamespace(offering=o, raw_score=raw), scheme, rule)  # as finalization does
        return {"student_id": sid, "offering_id": o.id, "raw_score": raw, "state": "finalized", "source": "gradebook",
                "ja_scheme_id": scheme.id, "credit_rule_id": rule.id, "uz_scale_version": 1, "frozen": frozen}

    db.session.execute(FinalResult.__table__.insert(), [row(sid, o) for sid in ids for o in offerings])
    db.session.commit()
    return program.id


def badge_sample(n: int) -> list[int]:
    """Passed results (JP letter not F): the badge job signs those only."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.records.models import FinalResult

    ids = list(db.session.scalars(select(FinalResult.id).where(FinalResult.raw_score >= 60).order_by(FinalResult.id)))
    return ids[:n] if n else ids


def passed_results() -> int:
    return len(badge_sample(0))


def bare_sign_per_badge(result_ids: list[int]) -> float:
    """The physical limit: Ed25519 over the stored badges' JSON bytes, no canonicalization."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy import select

    from lms.credentials.models import IssuedCredential
    from lms.extensions import db

    key = Ed25519PrivateKey.generate()
    blobs = [json.dumps(d, ensure_ascii=False).encode() for d in db.session.scalars(
        select(IssuedCredential.document).where(IssuedCredential.result_id.in_(result_ids)))]
    start = time.process_time()
    for _ in range(20):
        for blob in blobs:
            key.sign(blob)
    return (time.process_time() - start) / (20 * len(blobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--courses", type=int, default=40)
    parser.add_argument("--badges", type=int, default=1000, help="passed results signed as Open Badges (0: all)")
    parser.add_argument("--pdf-sample", type=int, default=20, help="students rendered one at a time")
    parser.add_argument("--pdf-cohort", type=int, default=100,
                        help="students in the export job's PDF zip (0: the whole cohort)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="the zip job's worker processes (LMS_EXPORT_PROCESSES; default the CPU count)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations (slows every figure 2-3x)")
    args = parser.parse_args()

    from benchlib import migrated_app
    from lms.extensions import db
    from lms.jobs.worker import JobContext
    from lms.records import export_jobs, exports, issuing
    from lms.records.exports_pdf import render_pdf
    from lms.records.record import student_records

    with tempfile.TemporaryDirectory() as work:
        app = migrated_app({"DATABASE_URL": f"sqlite:///{work}/bench.sqlite3", "SECRET_KEY": "b" * 40,
                            "MEDIA_ROOT": f"{work}/media", "SERVER_NAME": "bench.local",
                            "INSTANCE_PATH": f"{work}/instance"})
        with app.app_context(), app.test_request_context():
            program_id = build(app, args.students, args.courses)
            ids = exports.cohort_student_ids(program_id, 2026)
            if args.tracemalloc:
                tracemalloc.start()

            cpu = {}

            def children_cpu():  # worker processes the pool has joined
                usage = resource.getrusage(resource.RUSAGE_CHILDREN)
                return usage.ru_utime + usage.ru_stime

            def timed(fn, name=None):
                db.session.expunge_all()
                start, start_cpu, start_children = time.perf_counter(), time.process_time(), children_cpu()
                fn()
                if name:  # CPU time too: on shared cores it is what the wall time would be alone
                    cpu[name] = time.process_time() - start_cpu + children_cpu() - start_children
                return time.perf_counter() - start

            def each():
                # The export job's path: a batch of students per few queries.
                yield from exports.transcripts(ids)

            t_records = timed(lambda: student_records(ids), "records")
            t_csv = timed(lambda: exports.write_csv(io.StringIO(), each()), "csv")
            ctx = JobContext(job_id=0, attempt=1, payload={}, worker_id="bench")
            with tempfile.TemporaryFile() as out:
                t_clr = timed(lambda: export_jobs.write_clr_zip(ctx, ids, out), "clr")
                clr_mb = out.tell() / 1024 ** 2
            badges = badge_sample(args.badges)
            t_badges = timed(lambda: issuing.issue_badges(JobContext(0, 1, {"result_ids": badges}, "bench")),
                             "badges")
            limit_sign = bare_sign_per_badge(badges[:50])
            passed_total = passed_results()
            render_pdf(exports.transcript(ids[0]))  # font loading, once per worker process
            sample = ids[:args.pdf_sample]
            sizes = []
            t_pdf = timed(lambda: sizes.extend(len(render_pdf(exports.transcript(sid))) for sid in sample),
                          "pdf") / len(sample)
            cohort = ids[:args.pdf_cohort] if args.pdf_cohort else ids
            app.config["EXPORT_PROCESSES"] = 1
            with tempfile.TemporaryFile() as out:
                t_zip = timed(lambda: export_jobs.write_pdf_zip(ctx, cohort, out), "zip") / len(cohort)
                zip_mb = out.tell() / 1024 ** 2
            app.config["EXPORT_PROCESSES"] = args.processes
            processes = export_jobs.pdf_processes()
            with tempfile.TemporaryFile() as out:
                t_pool = timed(lambda: export_jobs.write_pdf_zip(ctx, cohort, out), "pool") / len(cohort)
            peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
            tracemalloc.stop()

    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = t_records + t_csv + t_clr
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
          f"Python {platform.python_version()}")
    print(f"cohort: {len(ids)} students x {args.courses} results = {len(ids) * args.courses} results")
    total_cpu = cpu["records"] + cpu["csv"] + cpu["clr"]
    print(f"{'records (all students, one batch)':40} {t_records:8.2f} s   (CPU {cpu['records']:.2f} s)")
    print(f"{'CSV export (records + CSV)':40} {t_csv:8.2f} s   (CPU {cpu['csv']:.2f} s)")
    print(f"{'signed CLR zip (records + sign + store)':40} {t_clr:8.2f} s   (CPU {cpu['clr']:.2f} s, {clr_mb:.1f} MB)")
    print(f"{'records + CSV + signed CLR':40} {total:8.2f} s   (CPU {total_cpu:.2f} s)   target < 10 s: "
          f"{'OK' if total < 10 else 'MISSED'}")
    per_badge, per_badge_cpu = t_badges / len(badges), cpu["badges"] / len(badges)
    print(f"{'OB3 badges signed (eddsa-rdfc-2022)':40} {len(badges):8d}     of {passed_total} passed results")
    print(f"{'  per badge (job: build, sign, store)':40} {per_badge * 1000:8.2f} ms  (CPU {per_badge_cpu * 1000:.2f} ms)"
          f"   bare Ed25519 sign of the same bytes {limit_sign * 1000:.3f} ms, ratio {per_badge_cpu / limit_sign:.0f}x")
    print(f"{'  whole cohort, extrapolated':40} {per_badge * passed_total:8.1f} s   "
          f"(CPU {per_badge_cpu * passed_total:.1f} s; one offering of {len(ids)}: {per_badge * len(ids):.1f} s)")
    for label, n, wall, name in (("PDF per student, one at a time", len(sample), t_pdf, "pdf"),
                                 ("PDF per student, zip job, 1 process", len(cohort), t_zip, "zip"),
                                 (f"PDF per student, zip job, {processes} proc.", len(cohort), t_pool, "pool")):
        print(f"{label + ' (%d)' % n:40} {wall:8.3f} s   (CPU {cpu[name] / n:.3f} s)   target <= 0.2 s: "
              f"{'OK' if wall <= 0.2 else 'MISSED'}")
    print(f"{'PDF size (one at a time / cohort zip)':40} {sum(sizes) / len(sizes) / 1024:8.0f} KB / {zip_mb:.1f} MB")
    if peak is not None:
        print(f"{'peak Python memory (tracemalloc)':40} {peak / 1024 ** 2:8.1f} MB")
    print(f"{'peak RSS (getrusage maxrss)':40} {maxrss_mb:8.1f} MB")


if __name__ == "__main__":
    main()
