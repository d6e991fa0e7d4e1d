"""Each student's deadlines as a private iCal feed."""
import re
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from lms.assignments.models import Extension
from lms.extensions import db
from tests.assignments.conftest import form_key, login, make_assignment


def feed_path(client) -> str:
    page = client.get("/account/calendar").get_data(as_text=True)
    return re.search(r'value="https?://[^/]+(/calendar/[^"]+\.ics)"', page).group(1)


def test_feed_lists_my_deadlines_with_tzid_and_my_extension(app, world):
    due = datetime(2026, 12, 1, 18, 59, tzinfo=UTC)
    world.assignment.due_at = due
    make_assignment(world.offering, title="Sprite sheet", due_at=due + timedelta(days=7))
    db.session.add(Extension(assignment_id=world.assignment.id, student_id=world.student.id,
                             due_at=due + timedelta(days=2), reason="visa"))
    db.session.commit()
    path = feed_path(login(app, world.student))
    response = app.test_client().get(path)  # calendar apps have no session: the token is the key
    assert response.status_code == 200 and response.content_type.startswith("text/calendar")
    calendar = Calendar.from_ical(response.data)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{world.course.code}: Paper prototype", f"{world.course.code}: Sprite sheet"}
    start = events[f"{world.course.code}: Paper prototype"]["dtstart"]
    assert start.params["TZID"] == "Asia/Tashkent"
    assert start.dt == due + timedelta(days=2)  # the extension, not the class deadline
    assert b"BEGIN:VTIMEZONE" in response.data


def test_other_students_deadlines_stay_private(app, world):
    other = make_assignment(world.offering, title="Only mine")
    db.session.add(Extension(assignment_id=other.id, student_id=world.other_student.id,
                             due_at=datetime(2030, 1, 1, tzinfo=UTC), reason="secret reason"))
    db.session.commit()
    body = app.test_client().get(feed_path(login(app, world.student))).data
    assert b"2030" not in body and b"secret" not in body


def test_a_new_address_retires_the_old_one(app, world):
    client = login(app, world.student)
    old = feed_path(client)
    client.post("/account/calendar")
    new = feed_path(client)
    assert new != old
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 200
    assert app.test_client().get("/calendar/guess.ics").status_code == 404


def test_home_page_lists_coming_deadlines(app, world):
    make_assignment(world.offering, title="Far away", due_at=datetime.now(UTC) + timedelta(days=60))
    page = login(app, world.student).get("/").get_data(as_text=True)
    assert "Coming deadlines" in page and "Paper prototype" in page and "Far away" not in page
    assert "Coming deadlines" not in login(app, world.outsider).get("/").get_data(as_text=True)


def test_home_deadlines_follow_my_extension_and_submissions_soonest_first(app, world):
    now = datetime.now(UTC)
    world.assignment.due_at = now + timedelta(days=5)
    make_assignment(world.offering, title="Storyboard", due_at=now + timedelta(days=2))
    moved = make_assignment(world.offering, title="Level blockout", due_at=now - timedelta(days=3))
    gone = make_assignment(world.offering, title="Moved far away", due_at=now + timedelta(days=1))
    db.session.add_all([Extension(assignment_id=moved.id, student_id=world.student.id,
                                  due_at=now + timedelta(days=3), reason="illness"),
                        Extension(assignment_id=gone.id, student_id=world.student.id,
                                  due_at=now + timedelta(days=40), reason="exchange term")])
    db.session.commit()
    client = login(app, world.student)
    assert client.post(f"/assignments/{world.assignment.id}/submit",
                       data={"kind": "text", "text": "done", "idempotency_key": form_key(client, world.assignment)}
                       ).status_code == 303
    page = client.get("/").get_data(as_text=True)
    section = page[page.index("Coming deadlines"):page.index("</section>")]
    titles = re.findall(r": ([^<]+)</a>", section)
    assert titles == ["Storyboard", "Level blockout", "Paper prototype"]  # the extension decides, soonest first
    items = section.split("<li>")[1:]
    assert ["submitted" in item for item in items] == [False, False, True]
    # Another student's extension moves nothing of mine, and theirs stays theirs.
    other = login(app, world.other_student).get("/").get_data(as_text=True)
    assert "Level blockout" not in other and "Moved far away" in other
