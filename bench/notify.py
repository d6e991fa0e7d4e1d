"""An announcement to an offering of 600 students: our worker (notifications in the database, 600
e-mails in each student's language) against a bare smtplib loop sending the same 600 messages.

    .venv/bin/python bench/notify.py                       # PostgreSQL, 600 students, 3 rounds
    .venv/bin/python bench/notify.py --database sqlite     # the default one-machine database
    .venv/bin/python bench/notify.py --students 60 --rounds 1   # quick check

(a) ours: `community.services.post` + commit (not timed), then `Worker(app).run(drain=True)` from
    the commit until it returns: the notify job finds the 600 students, bulk-inserts their
    notifications, commits, and mails each on one SMTP connection, committing each one's sent marker
    after the server's accept. Afterwards every notification must exist, be marked sent, and the
    server must hold 600 messages with 600 distinct Message-IDs.
(b) the limit: the very messages (a) sent, as bytes, sent again by one `smtplib.SMTP.sendmail` loop
    on one connection in this process.

The mail server (bench/smtp_sink.py, aiosmtpd) runs in a process of its own. Wall time is
perf_counter; CPU is this process's and the server's process_time. The figure is rate(a)/rate(b) =
wall(b)/wall(a), target >= 0.8; medians over the rounds.
"""
from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark this checkout; tests.mailserver and tests.postgres too

from benchlib import migrated_app  # noqa: E402
from tests.mailserver import free_port  # noqa: E402

LOCALES = ("uz", "ru", "ja", "en")


class SinkProcess:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(self.port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert "ready" in json.loads(self.proc.stdout.readline())

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def populate(app, students: int):
    """One instructor, one offering, `students` enrolled students in four languages (bulk, untimed)."""
    from sqlalchemy import insert, select

    from lms.auth.models import Role, User
    from lms.auth.passwords import hash_password
    from lms.catalog.models import Course, Enrollment, Offering, OfferingStaff, StaffRole, Term
    from lms.extensions import db
    from datetime import date
    from decimal import Decimal

    with app.app_context():
        password = hash_password("bench-password-2026")
        teacher = User(email="teacher@bench.test", name_latin="Sato Haruka", role=Role.INSTRUCTOR,
                       password_hash=password, must_change_password=False)
        course = Course(code="GD101", title_en="Game Design Fundamentals", title_ja="ゲームデザイン基礎",
                        credits=Decimal(2), hours=90)
        term = Term(code="2026-fall", name="Fall 2026", starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 31))
        db.session.add_all([teacher, course, term])
        db.session.flush()
        offering = Offering(course_id=course.id, term_id=term.id)
        db.session.add(offering)
        db.session.flush()
        db.session.add(OfferingStaff(offering_id=offering.id, user_id=teacher.id, role=StaffRole.INSTRUCTOR))
        db.session.execute(insert(User), [
            {"email": f"student{n:04d}@bench.test", "name_latin": f"Student {n:04d}", "role": Role.STUDENT,
             "password_hash": password, "must_change_password": False, "student_number": f"B{n:05d}",
             "locale": LOCALES[n % len(LOCALES)]} for n in range(students)])
        ids = db.session.scalars(select(User.id).where(User.role == Role.STUDENT)).all()
        db.session.execute(insert(Enrollment), [{"offering_id": offering.id, "student_id": i} for i in ids])
        db.session.commit()
        return teacher.id, offering.id


def ours(app, sink: SinkProcess, teacher_id: int, offering_id: int, students: int, n: int) -> dict:
    from sqlalchemy import func, select

    from lms.auth.models import User
    from lms.catalog.models import Offering
    from lms.community import services
    from lms.extensions import db
    from lms.jobs.worker import Worker
    from lms.notifications.models import MailState, Notification

    sink.ask("reset")
    with app.app_context():
        services.post(db.session.get(Offering, offering_id), db.session.get(User, teacher_id),
                      f"Playtest day {n}", "Bring a **build** of your level.\n\n- room 204\n- 14:00 Tashkent time")
        db.session.commit()
    server0 = sink.ask("stats")["cpu"]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    Worker(app, lease_seconds=60, poll_seconds=0.1).run(drain=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    stats = sink.ask("stats")
    with app.app_context():
        event = f"announcement:%"
        made = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.event_key.like(event), Notification.params["title"].as_string() == f"Playtest day {n}"))
        unsent = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.mail_state != MailState.SENT.value))
    assert made == students and unsent == 0, (made, unsent)
    assert stats["accepted"] == students and stats["message_ids"] == students, stats
    return {"wall": wall, "cpu": cpu, "server_cpu": stats["cpu"] - server0}


def bare(sink: SinkProcess, dump: Path) -> dict:
    messages = [(f, t, c.encode("utf-8", "surrogateescape")) for f, t, c in json.loads(dump.read_text())]
    sink.ask("reset")
    server0 = sink.ask("stats")["cpu"]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for mail_from, rcpt_tos, content in messages:
            smtp.sendmail(mail_from, rcpt_tos, content)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    stats = sink.ask("stats")
    assert stats["accepted"] == len(messages)
    return {"wall": wall, "cpu": cpu, "server_cpu": stats["cpu"] - server0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    cluster = None
    if args.database == "postgresql":
        from tests.postgres import PostgresCluster

        cluster = PostgresCluster()
        url = cluster.start()
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    sink = SinkProcess()
    try:
        app = migrated_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "s" * 40, "MEDIA_ROOT": str(work / "media"),
                            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_TLS": "none",
                            "ANNOUNCEMENTS_PER_HOUR": 1000, "INSTANCE_PATH": str(work / "instance")})
        teacher_id, offering_id = populate(app, args.students)
        rows_a, rows_b = [], []
        for n in range(args.rounds):
            rows_a.append(ours(app, sink, teacher_id, offering_id, args.students, n))
            dump = work / f"round{n}.json"
            sink.ask(f"dump {dump}")
            rows_b.append(bare(sink, dump))
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()
    finally:
        sink.stop()
        if cluster is not None:
            cluster.stop()

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    print(f"{args.students} students, {args.database}, {args.rounds} round(s); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'case':<48} {'wall s':>8} {'mails/s':>8} {'CPU s':>7} {'server CPU s':>13}")
    for label, rows in (("(a) ours: posted -> all notified and mailed", rows_a),
                        ("(b) bare smtplib loop, same messages", rows_b)):
        wall = med(rows, "wall")
        print(f"{label:<48} {wall:>8.3f} {args.students / wall:>8.0f} {med(rows, 'cpu'):>7.3f} "
              f"{med(rows, 'server_cpu'):>13.3f}")
    ratio = med(rows_b, "wall") / med(rows_a, "wall")
    cpu_ratio = med(rows_b, "cpu") / med(rows_a, "cpu")
    print(f"rate a/b: {ratio:.2f}x wall ({'met' if ratio >= 0.8 else 'MISSED'}, target >= 0.8), "
          f"{cpu_ratio:.2f}x in our process's CPU")
    print("per round (a): " + ", ".join(f"{r['wall']:.3f}" for r in rows_a) +
          "; (b): " + ", ".join(f"{r['wall']:.3f}" for r in rows_b))


if __name__ == "__main__":
    main()
