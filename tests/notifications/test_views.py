"""The bell and the notifications page: one's own notifications only, opened and marked read."""
from __future__ import annotations

from sqlalchemy import select

from lms.auth.models import Role
from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import Notification


def add(user, key="announcement:1", title="Exhibition"):
    services.notify([user.id], "announcement", key, {"course": "GD101", "title": title}, "/")
    db.session.commit()
    return db.session.scalar(select(Notification).where(Notification.user_id == user.id, Notification.event_key == key))


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, auth, make):
    student = make.user(Role.STUDENT)
    first, _second = add(student), add(student, "announcement:2", "Second")
    auth.login(student)
    assert 'id="bell-count">2<' in client.get("/").get_data(as_text=True)
    page = client.get("/notifications").get_data(as_text=True)
    assert "New announcement in GD101: Exhibition" in page and "Second" in page
    opened = client.post(f"/notifications/{first.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"] == "/"
    assert 'id="bell-count">1<' in client.get("/").get_data(as_text=True)
    client.post("/notifications/read")
    assert 'id="bell-count"' not in client.get("/").get_data(as_text=True)


def test_someone_elses_notification_is_not_found(client, auth, make):
    owner, other = make.user(Role.STUDENT), make.user(Role.STUDENT)
    note = add(owner)
    auth.login(other)
    assert client.post(f"/notifications/{note.id}/open").status_code == 404
    assert "Exhibition" not in client.get("/notifications").get_data(as_text=True)
    db.session.refresh(note)
    assert note.read_at is None


def test_the_same_event_notifies_a_person_once(make):
    student = make.user(Role.STUDENT)
    add(student)
    assert services.notify([student.id, student.id], "announcement", "announcement:1", {}, "/") == 0
    assert len(db.session.scalars(select(Notification)).all()) == 1


def test_a_bad_preference_is_refused(client, auth, make):
    auth.login(make.user(Role.STUDENT))
    assert client.post("/account/notifications", data={"notify-announcement": "hourly"}).status_code == 400
    assert "E-mail at once" in client.get("/account").get_data(as_text=True)
