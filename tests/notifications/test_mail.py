"""Notification e-mail through a real SMTP server: each recipient's language, plain text and HTML,
a working unsubscribe link, and no message lost or sent twice when the server fails."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select, update

from lms.auth.models import Role
from lms.community import services as announcements
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.notifications.kinds import summary
from lms.notifications.models import MailState, Notification
from tests.notifications.conftest import run_jobs


def announce(offering, instructor, title="Studio visit on Friday", body="Bring your **sketchbook**."):
    item = announcements.post(offering, instructor, title, body)
    db.session.commit()
    return item


def notify_job() -> Job:
    db.session.expire_all()
    return db.session.scalar(select(Job).where(Job.kind == "notify"))


def due_now() -> None:
    """Skip the retry's backoff wait, as if its time had come."""
    db.session.execute(update(Job).values(run_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_each_student_gets_one_mail_in_their_language_with_text_and_html(app, make, mailing):
    teacher = make.user(Role.INSTRUCTOR)
    aziz = make.user(Role.STUDENT, name_latin="Aziz Karimov")
    dilnoza = make.user(Role.STUDENT, name_latin="Dilnoza Yusupova")
    aziz.locale, dilnoza.locale = "ja", "ru"
    db.session.commit()
    offering = make.offering(instructor=teacher, students=[aziz, dilnoza])
    announce(offering, teacher)

    run_jobs(app)

    assert len(mailing.messages) == 2
    params = {"course": offering.course.code, "title": "Studio visit on Friday"}
    for student, language in ((aziz, "ja"), (dilnoza, "ru")):
        [message] = mailing.to(student.email)
        with force_locale(language):
            assert message["Subject"] == summary("announcement", params)
        assert message["Subject"] != summary("announcement", params)  # not the English one
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Bring your **sketchbook**." in text and student.name_latin in text
        assert "<strong>sketchbook</strong>" in html and f'lang="{language}"' in html
        assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/unsubscribe/")
    assert notify_job().state == JobState.DONE
    states = db.session.scalars(select(Notification.mail_state)).all()
    assert states == [MailState.SENT.value] * 2


def test_the_unsubscribe_link_works_without_logging_in_and_stops_that_kind(app, client, make, mailing):
    teacher = make.user(Role.INSTRUCTOR)
    student = make.user(Role.STUDENT)
    offering = make.offering(instructor=teacher, students=[student])
    announce(offering, teacher)
    run_jobs(app)
    [message] = mailing.messages
    path = message["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:5000")

    page = client.get(path)
    assert page.status_code == 200 and "Announcements in my courses" in page.get_data(as_text=True)
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # what a mail app sends (RFC 8058)
    assert done.status_code == 200 and "no more e-mail" in done.get_data(as_text=True)

    announce(offering, teacher, title="Second")
    run_jobs(app)
    assert len(mailing.messages) == 1  # nothing more by mail...
    assert db.session.scalar(select(Notification).where(Notification.event_key.like("announcement:%"),
                                                        Notification.mail_state == MailState.NONE.value))
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 404


def test_smtp_down_the_job_retries_and_sends_everything_once_when_it_is_back(app, make, mailing):
    teacher = make.user(Role.INSTRUCTOR)
    students = [make.user(Role.STUDENT) for _ in range(5)]
    offering = make.offering(instructor=teacher, students=students)
    mailing.stop()
    announce(offering, teacher)

    run_jobs(app)
    job = notify_job()
    assert job.state == JobState.FAILED and "SMTP" in job.last_error
    # Nothing is lost: every student has the notification in the app already.
    assert db.session.scalar(select(Notification).where(Notification.mail_state == MailState.PENDING.value))
    assert len(db.session.scalars(select(Notification)).all()) == 5

    mailing.start()
    due_now()
    run_jobs(app)
    assert notify_job().state == JobState.DONE
    assert sorted(m["To"].addresses[0].addr_spec for m in mailing.messages) == sorted(s.email for s in students)


def test_a_server_refusing_midway_gets_only_the_rest_on_retry(app, make, mailing):
    teacher = make.user(Role.INSTRUCTOR)
    students = [make.user(Role.STUDENT) for _ in range(6)]
    offering = make.offering(instructor=teacher, students=students)
    mailing.accept_only = 2  # then "451 try again later"
    announce(offering, teacher)

    run_jobs(app)
    assert notify_job().state == JobState.FAILED
    assert len(mailing.messages) == 2

    mailing.accept_only = None
    due_now()
    run_jobs(app)
    ids = [m["Message-ID"] for m in mailing.messages]
    assert len(ids) == 6 and len(set(ids)) == 6  # each student once, none twice
    assert sorted(m["To"].addresses[0].addr_spec for m in mailing.messages) == sorted(s.email for s in students)

    due_now()  # a stray rerun of the finished job finds nothing to send
    db.session.execute(update(Job).values(state=JobState.QUEUED))
    db.session.commit()
    run_jobs(app)
    assert len(mailing.messages) == 6


def test_digest_choice_sends_one_mail_a_day_with_everything(app, client, auth, make, mailing):
    from lms.notifications import jobs

    teacher = make.user(Role.INSTRUCTOR)
    student = make.user(Role.STUDENT)
    offering = make.offering(instructor=teacher, students=[student])
    auth.login(student)
    response = client.post("/account/notifications", data={"notify-announcement": "digest",
                                                          "notify-grade_released": "immediately",
                                                          "notify-deadline_soon": "off",
                                                          "notify-video_ready": "immediately",
                                                          "notify-export_ready": "immediately"})
    assert response.status_code == 302
    announce(offering, teacher, title="One")
    announce(offering, teacher, title="Two")
    run_jobs(app)
    assert mailing.messages == []  # waiting for the digest

    db.session.execute(update(Notification).values(created_at=jobs.digest_cutoff() - timedelta(minutes=1)))
    db.session.commit()
    from lms.jobs import queue

    queue.enqueue(jobs.DIGEST, {})
    db.session.commit()
    run_jobs(app)
    [digest] = mailing.messages
    text = digest.get_body(("plain",)).get_content()
    assert "One" in text and "Two" in text and "2" in digest["Subject"]
    queue.enqueue(jobs.DIGEST, {})
    db.session.commit()
    run_jobs(app)
    assert len(mailing.messages) == 1  # sent once


def test_without_a_mail_server_notifications_stay_in_the_app(app, make):
    teacher = make.user(Role.INSTRUCTOR)
    student = make.user(Role.STUDENT)
    offering = make.offering(instructor=teacher, students=[student])
    announce(offering, teacher)
    run_jobs(app)
    assert notify_job().state == JobState.DONE
    assert db.session.scalars(select(Notification.mail_state)).all() == [MailState.NONE.value]
