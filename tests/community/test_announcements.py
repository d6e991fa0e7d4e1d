"""Announcements: instructors post (now or at a Tashkent/Tokyo time, pinned or not), students read
them on the course and home pages with unread marks, and bad input gets a clear answer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.community.models import Announcement
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.models import Job
from lms.notifications.models import Notification
from tests.notifications.conftest import run_jobs


@pytest.fixture
def course(make):
    class Course:
        pass

    c = Course()
    c.teacher = make.user(Role.INSTRUCTOR)
    c.assistant = make.user(Role.INSTRUCTOR)
    c.student = make.user(Role.STUDENT)
    c.other_teacher = make.user(Role.INSTRUCTOR)
    c.offering = make.offering(instructor=c.teacher, assistant=c.assistant, students=[c.student])
    make.offering(instructor=c.other_teacher)
    c.url = f"/offerings/{c.offering.id}/announcements"
    return c


def post(client, url, **fields):
    data = {"title": "Exhibition", "body_md": "See you **there**.", "timezone": "Asia/Tashkent", "publish_at": ""}
    data.update(fields)
    return client.post(url, data=data)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Announcement))


def test_a_posted_announcement_reaches_the_course_page_home_and_bell(app, client, auth, course):
    auth.login(course.teacher)
    response = post(client, course.url, pinned="y")
    assert response.status_code == 302
    run_jobs(app)
    auth.logout()

    auth.login(course.student)
    assert 'id="bell-count">1<' in client.get("/").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "Exhibition" in home and "New announcements" in home
    page = client.get(f"/offerings/{course.offering.id}").get_data(as_text=True)
    assert "Exhibition" in page and "pinned" in page and ">new<" in page

    item = db.session.scalar(select(Announcement))
    shown = client.get(f"/announcements/{item.id}").get_data(as_text=True)
    assert "<strong>there</strong>" in shown
    after = client.get(f"/offerings/{course.offering.id}").get_data(as_text=True)
    assert ">new<" not in after  # read now
    assert 'id="bell-count"' not in after  # and its notification with it
    assert "New announcements" not in client.get("/").get_data(as_text=True)


def test_a_scheduled_announcement_waits_for_its_time_in_tokyo(app, client, auth, course):
    auth.login(course.teacher)
    later = (utcnow() + timedelta(days=2)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    response = post(client, course.url, timezone="Asia/Tokyo", publish_at=later.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 302
    item = db.session.scalar(select(Announcement))
    assert abs(item.publish_at - later.replace(second=0, microsecond=0)) < timedelta(seconds=1)
    job = db.session.scalar(select(Job).where(Job.kind == "notify"))
    assert abs(job.run_after - item.publish_at) < timedelta(seconds=1)
    assert "scheduled" in client.get(course.url).get_data(as_text=True)
    auth.logout()

    run_jobs(app)  # not due yet: nobody is notified
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    auth.login(course.student)
    assert "Exhibition" not in client.get(f"/offerings/{course.offering.id}").get_data(as_text=True)
    assert client.get(f"/announcements/{item.id}").status_code == 404


@pytest.mark.parametrize("who", ["student", "assistant", "other_teacher"])
def test_only_the_offerings_instructors_post(client, auth, course, who):
    auth.login(getattr(course, who))
    assert post(client, course.url).status_code == 403
    assert count() == 0


def test_an_oversized_announcement_is_refused_and_nothing_is_kept(client, auth, course):
    auth.login(course.teacher)
    response = post(client, course.url, body_md="x" * 20_001)
    assert response.status_code == 400
    assert "20000" in response.get_data(as_text=True).replace(",", "").replace("\u202f", "")
    assert post(client, course.url, title="t" * 201).status_code == 400
    assert count() == 0 and db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_script_in_markdown_is_shown_as_text(app, client, auth, course):
    auth.login(course.teacher)
    post(client, course.url, body_md='<script>alert("x")</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>')
    item = db.session.scalar(select(Announcement))
    html = client.get(f"/announcements/{item.id}").get_data(as_text=True)
    body = html.split('class="announcement-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body and "href=\"javascript" not in body and "<img" not in body
    assert "&lt;script&gt;" in body  # shown as the text that was typed


def test_flooding_is_refused_with_429(app, client, auth, course):
    app.config["ANNOUNCEMENTS_PER_HOUR"] = 3
    auth.login(course.teacher)
    for n in range(3):
        assert post(client, course.url, title=f"News {n}").status_code == 302
    response = post(client, course.url, title="One too many")
    assert response.status_code == 429
    assert "wait before posting more" in response.get_data(as_text=True)
    assert count() == 3


def test_a_publish_time_in_the_past_is_refused(client, auth, course):
    auth.login(course.teacher)
    past = (utcnow() - timedelta(days=1)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tashkent"))
    response = post(client, course.url, publish_at=past.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 400 and "in the past" in response.get_data(as_text=True)


def test_pinning_is_for_instructors(client, auth, course):
    auth.login(course.teacher)
    post(client, course.url)
    item = db.session.scalar(select(Announcement))
    auth.logout()
    auth.login(course.student)
    assert client.post(f"/announcements/{item.id}/pin").status_code == 403
    auth.logout()
    auth.login(course.teacher)
    assert client.post(f"/announcements/{item.id}/pin").status_code == 302
    db.session.refresh(item)
    assert item.pinned


def test_outsiders_cannot_read_an_offerings_announcements(client, auth, make, course):
    auth.login(course.teacher)
    post(client, course.url)
    item = db.session.scalar(select(Announcement))
    auth.logout()
    auth.login(make.user(Role.STUDENT))
    assert client.get(f"/announcements/{item.id}").status_code == 403
    assert client.get(course.url).status_code == 403
