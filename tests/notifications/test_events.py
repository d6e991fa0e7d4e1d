"""Events that notify: released grades (by mail too), and the hourly deadline check, which tells each
student who has not submitted once per due date."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import Role
from lms.db import utcnow
from lms.extensions import db
from lms.grading import services as grading
from lms.jobs import queue, schedule
from lms.jobs.models import Job
from lms.notifications import jobs
from lms.notifications.models import Notification
from tests.grading.conftest import make_assignment, make_submission
from tests.notifications.conftest import run_jobs


def notes(kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_released_grades_notify_the_graded_students_by_mail(app, make, mailing):
    from decimal import Decimal

    teacher = make.user(Role.INSTRUCTOR)
    graded, ungraded = make.user(Role.STUDENT), make.user(Role.STUDENT)
    offering = make.offering(instructor=teacher, students=[graded, ungraded])
    assignment = make_assignment(offering, title="Character sheet")
    submission = make_submission(assignment, graded)
    grading.save_grade(assignment, graded, teacher, raw_score=Decimal("88"), comment="Lovely line work.",
                       submission=submission)
    db.session.commit()
    grading.release(assignment, teacher)
    db.session.commit()

    run_jobs(app)
    [note] = notes("grade_released")
    assert note.user_id == graded.id and note.params["assignment"] == "Character sheet"
    [message] = mailing.messages
    assert graded.email in message["To"] and "Character sheet" in message["Subject"]
    assert f"/assignments/{assignment.id}" in message.get_body(("plain",)).get_content()


def test_the_deadline_check_tells_each_student_once_per_due_date(app, make):
    teacher = make.user(Role.INSTRUCTOR)
    waiting, done, extended = (make.user(Role.STUDENT) for _ in range(3))
    offering = make.offering(instructor=teacher, students=[waiting, done, extended])
    assignment = make_assignment(offering, title="Level blockout", due_at=utcnow() + timedelta(hours=20))
    make_submission(assignment, done)
    make_assignment(offering, title="Far away", due_at=utcnow() + timedelta(days=5))
    from lms.assignments.models import Extension

    db.session.add(Extension(assignment_id=assignment.id, student_id=extended.id,
                             due_at=utcnow() + timedelta(days=3), reason="ill"))
    db.session.commit()

    assert schedule.enqueue_due([jobs.DEADLINE_CHECK])
    db.session.commit()
    assert schedule.enqueue_due([jobs.DEADLINE_CHECK]) == []  # once an hour, not on every look
    run_jobs(app)
    assert [n.user_id for n in notes("deadline_soon")] == [waiting.id]

    queue.enqueue(jobs.DEADLINE_CHECK, {})  # the next hour's check
    db.session.commit()
    run_jobs(app)
    assert len(notes("deadline_soon")) == 1

    assignment.due_at = utcnow() + timedelta(hours=10)  # moved: a new due date is worth telling
    db.session.commit()
    queue.enqueue(jobs.DEADLINE_CHECK, {})
    db.session.commit()
    run_jobs(app)
    assert len(notes("deadline_soon")) == 2
    assert db.session.scalar(select(Job).where(Job.kind == jobs.DEADLINE_CHECK).limit(1)).max_attempts == 3


def test_an_idle_worker_queues_the_hourly_checks_once(app):
    import threading

    from lms.jobs.worker import Worker

    worker = Worker(app, lease_seconds=30, poll_seconds=0.05, periodic=True)  # as `flask lms worker` runs
    threading.Timer(1.5, worker.stop.set).start()
    worker.run()  # not drained: it waits for work, and looks for periodic jobs when idle
    from lms.jobs import schedule

    kinds = sorted(db.session.scalars(select(Job.kind)))
    assert {jobs.DEADLINE_CHECK, jobs.DIGEST} <= set(kinds)
    assert kinds == sorted(schedule.PERIODIC)  # every periodic kind (the portfolio's sweep too) queued once, and run
    assert {j.state for j in db.session.scalars(select(Job))} == {"done"}
