"""The worker's side: events become notifications (in bulk) and e-mail (on one SMTP connection).

A service records an event by queueing a `notify` job in its own transaction (`record`); the job
finds the recipients, adds the notifications that do not exist yet, commits, then mails the ones
still pending. Run again after a failure, it adds nothing twice and mails only what is unsent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import and_, or_, select

from lms.auth.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.jobs import queue, schedule
from lms.jobs.models import Job, JobState
from lms.jobs.worker import JobContext, PermanentError, handler
from lms.notifications import delivery, kinds, mail, services
from lms.notifications.models import Notification

NOTIFY = "notify"
DEADLINE_CHECK = "deadline_check"
DIGEST = "notification_digest"
MAX_ATTEMPTS = 14  # with the queue's backoff (10 s doubling to 1 h, jittered): retried for 3 to 5 hours


@dataclass
class Fanout:
    user_ids: list[int]
    kind: str
    event_key: str
    params: dict
    link: str
    mail_extra: dict = field(default_factory=dict)  # the same for every recipient (an announcement's text)


def record(event: str, *, run_after: datetime | None = None, **ids) -> Job:
    """Queue the notifications of one event in the caller's transaction."""
    job = queue.enqueue(NOTIFY, {"event": event, **ids}, max_attempts=MAX_ATTEMPTS)
    if run_after is not None:
        job.run_after = run_after
        db.session.flush()
    return job


def _active_students(offering_id: int) -> list[int]:
    from lms.catalog.models import Enrollment

    return list(db.session.scalars(select(Enrollment.student_id).join(User, User.id == Enrollment.student_id)
                                   .where(Enrollment.offering_id == offering_id, User.disabled.is_(False))))


def _announcement(payload: dict) -> Fanout | None:
    from lms import markdown
    from lms.community.models import Announcement

    item = db.session.get(Announcement, payload["announcement_id"])
    if item is None:  # deleted before it was published
        return None
    if item.publish_at > utcnow() + timedelta(seconds=5):  # moved later: its own job will run then
        return None
    course = item.offering.course
    return Fanout(_active_students(item.offering_id), kinds.ANNOUNCEMENT, f"announcement:{item.id}",
                  {"course": course.code, "title": item.title},
                  url_for("community.announcement", announcement_id=item.id),
                  {"body_text": item.body_md, "body_html": markdown.render(item.body_md),
                   "author": item.author.name_latin})


def _grades_released(payload: dict) -> Fanout | None:
    from lms.assignments.models import Assignment
    from lms.grading.models import Grade

    assignment = db.session.get(Assignment, payload["assignment_id"])
    if assignment is None or assignment.released_at is None:
        return None
    students = list(db.session.scalars(select(Grade.student_id).where(
        Grade.assignment_id == assignment.id, Grade.raw_score.is_not(None))))
    return Fanout(students, kinds.GRADE_RELEASED, f"released:{assignment.id}",
                  {"assignment": assignment.title, "course": assignment.offering.course.code},
                  url_for("assignments.show", assignment_id=assignment.id))


def _video_ready(payload: dict) -> Fanout | None:
    from lms.video.models import Video, VideoState

    video = db.session.get(Video, payload["video_id"])
    if video is None or video.state != VideoState.READY or video.uploaded_by_id is None or video.lesson is None:
        return None
    return Fanout([video.uploaded_by_id], kinds.VIDEO_READY, f"video:{video.id}",
                  {"lesson": video.lesson.title_en},
                  url_for("authoring.edit_lesson", lesson_id=video.lesson_id))


class NotYet(RuntimeError):
    """The event's outcome is not committed yet (an export finishing): try again shortly."""


def _export_ready(payload: dict) -> Fanout | None:
    from lms.catalog.models import Program

    job = db.session.get(Job, payload["job_id"])
    if job is None or job.state == JobState.DEAD:
        return None
    if job.state != JobState.DONE:
        raise NotYet(f"export job {job.id} is {job.state}")
    program = db.session.get(Program, job.payload["program_id"])
    return Fanout([job.payload["actor_id"]], kinds.EXPORT_READY, f"export:{job.id}",
                  {"program": program.code if program else "?", "year": job.payload["cohort_year"]},
                  url_for("record_exports.export_status", job_id=job.id))


EVENTS = {"announcement": _announcement, "grades_released": _grades_released,
          "video_ready": _video_ready, "export_ready": _export_ready}


def deliver(ctx: JobContext, fanouts: list[Fanout]) -> int:
    """Add each fan-out's notifications, commit, then mail what is pending; returns mails accepted."""
    for fan in fanouts:
        services.notify(fan.user_ids, fan.kind, fan.event_key, fan.params, fan.link)
    db.session.commit()
    sent = 0
    for fan in fanouts:
        ctx.check()
        sent += delivery.send_pending(Notification.event_key == fan.event_key, extra=fan.mail_extra, check=ctx.check)
    return sent


@handler(NOTIFY)
def run_notify(ctx: JobContext) -> None:
    resolve = EVENTS.get(ctx.payload.get("event"))
    if resolve is None:
        raise PermanentError(f"Unknown notification event {ctx.payload.get('event')!r}.")
    with mail.links():
        fan = resolve(ctx.payload)
    deliver(ctx, [fan] if fan is not None else [])


@handler(DEADLINE_CHECK)
def check_deadlines(ctx: JobContext) -> None:
    """Students who have not submitted, told once per due date when it is less than 24 h away."""
    from lms.assignments.models import Assignment, Extension, Submission

    now = utcnow()
    soon = now + timedelta(hours=24)
    extended_soon = select(Extension.assignment_id).where(Extension.due_at > now, Extension.due_at <= soon)
    due_soon = list(db.session.scalars(select(Assignment).where(
        or_(and_(Assignment.due_at > now, Assignment.due_at <= soon), Assignment.id.in_(extended_soon)))))
    fanouts = []
    with mail.links():
        for assignment in due_soon:
            extended = {e.student_id: e.due_at for e in db.session.scalars(
                select(Extension).where(Extension.assignment_id == assignment.id))}
            submitted = set(db.session.scalars(select(Submission.student_id).where(
                Submission.assignment_id == assignment.id)))
            by_due: dict[datetime, list[int]] = {}
            for student_id in _active_students(assignment.offering_id):
                due = extended.get(student_id, assignment.due_at)
                if now < due <= soon and student_id not in submitted:
                    by_due.setdefault(due, []).append(student_id)
            for due, students in by_due.items():
                fanouts.append(Fanout(students, kinds.DEADLINE_SOON, f"deadline:{assignment.id}:{due:%Y%m%d%H%M}",
                                      {"assignment": assignment.title, "course": assignment.offering.course.code},
                                      url_for("assignments.show", assignment_id=assignment.id)))
    deliver(ctx, fanouts)


def digest_cutoff(now: datetime | None = None) -> datetime:
    """The latest LMS_MAIL_DIGEST_HOUR o'clock (in the default time zone, Tashkent) before `now`."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = (now or utcnow()).astimezone(zone)
    cutoff = local.replace(hour=int(current_app.config["MAIL_DIGEST_HOUR"]), minute=0, second=0, microsecond=0)
    if cutoff > local:
        cutoff -= timedelta(days=1)
    return cutoff


@handler(DIGEST)
def send_digest(ctx: JobContext) -> None:
    delivery.send_digests(digest_cutoff(), check=ctx.check)


schedule.periodic(DEADLINE_CHECK, 3600)
schedule.periodic(DIGEST, 3600)
