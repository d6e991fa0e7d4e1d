"""Instructors create, edit and extend assignments; who may see and do what."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.assignments.models import Assignment, Extension, GradeCategory
from lms.extensions import db
from tests.assignments.conftest import PNG, login, submit_files

FORM = {"title": "Level design", "instructions_md": "Build a **level**. <script>x</script>", "points": "50",
        "category": "Projects", "kinds": ["files", "game"], "allowed_extensions": "png, .PDF",
        "max_file_mb": "20", "timezone": "Asia/Tokyo", "due_at": "2026-12-02T09:00",
        "cutoff_at": "2026-12-03T09:00", "attempts_allowed": "3", "grace_minutes": "15",
        "penalty_percent": "5", "penalty_unit": "hour", "max_penalty_percent": "40", "floor_percent": "50"}


def test_instructor_creates_an_assignment_with_tokyo_times(app, world):
    client = login(app, world.instructor)
    response = client.post(f"/offerings/{world.offering.id}/assignments/new", data=FORM)
    assert response.status_code == 302
    assignment = db.session.scalar(select(Assignment).where(Assignment.title == "Level design"))
    assert assignment.due_at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert assignment.allowed_extensions == ["png", "pdf"] and assignment.kinds == ["files", "game"]
    assert assignment.max_file_bytes == 20 * 1024 * 1024 and assignment.penalty_unit == "hour"
    assert assignment.category.name == "Projects" and assignment.category.weight == Decimal(100)
    page = login(app, world.student).get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "<strong>level</strong>" in page and "<script>x" not in page
    # The same moment twice: 05:00 in Tashkent, 09:00 in Tokyo.
    assert "Dec 2, 2026, 5:00:00" in page and "Dec 2, 2026, 9:00:00" in page


@pytest.mark.parametrize("change, message", [
    ({"cutoff_at": "2026-12-01T09:00"}, "cut-off must be at or after"),
    ({"kinds": []}, "Accept at least one kind"),
    ({"penalty_percent": "120"}, "Number must be between"),
    ({"allowed_extensions": "png; exe"}, "Write extensions like"),
    ({"title": ""}, "This field is required"),
])
def test_invalid_assignment_forms_explain_themselves(app, world, change, message):
    client = login(app, world.instructor)
    response = client.post(f"/offerings/{world.offering.id}/assignments/new", data={**FORM, **change})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(Assignment).where(Assignment.title == "Level design")) is None


def test_editing_keeps_the_times_in_the_chosen_zone(app, world):
    client = login(app, world.instructor)
    page = client.get(f"/assignments/{world.assignment.id}/edit").get_data(as_text=True)
    assert 'value="Paper prototype"' in page
    client.post(f"/assignments/{world.assignment.id}/edit",
                data={**FORM, "title": "Paper prototype v2", "timezone": "Asia/Tashkent", "due_at": "2026-12-05T23:59",
                      "cutoff_at": ""})
    db.session.expire_all()
    assert world.assignment.title == "Paper prototype v2"
    assert world.assignment.due_at == datetime(2026, 12, 5, 18, 59, tzinfo=UTC)
    assert db.session.scalar(select(GradeCategory.name)) == "Projects"
    assert world.assignment.portfolio_feedback is False  # quoting feedback in portfolios is opt-in
    client.post(f"/assignments/{world.assignment.id}/edit", data={**FORM, "portfolio_feedback": "y"})
    db.session.expire_all()
    assert world.assignment.portfolio_feedback is True


def test_extension_for_one_student(app, world):
    client = login(app, world.instructor)
    client.post(f"/assignments/{world.assignment.id}/extensions",
                data={"ext-student": world.student.student_number, "ext-timezone": "Asia/Tashkent",
                      "ext-due_at": "2027-01-10T12:00", "ext-reason": "Hospital"})
    extension = db.session.scalar(select(Extension))
    assert extension.student_id == world.student.id and extension.due_at == datetime(2027, 1, 10, 7, 0, tzinfo=UTC)
    refused = client.post(f"/assignments/{world.assignment.id}/extensions", follow_redirects=True,
                          data={"ext-student": world.outsider.student_number, "ext-timezone": "Asia/Tashkent",
                                "ext-due_at": "2027-01-10T12:00", "ext-reason": "x"})
    assert "in this offering" in refused.get_data(as_text=True)


def test_staff_see_everyones_latest_submission(app, world):
    submit_files(login(app, world.student), world.assignment, [("a.png", PNG)])
    page = login(app, world.assistant).get(f"/assignments/{world.assignment.id}").get_data(as_text=True)
    assert world.student.name_latin in page and world.other_student.name_latin in page and "attempt 1" in page
    assert "Grant an extension" not in page  # assistants grade, instructors manage


ROLES = ["anonymous", "student", "other_student", "outsider", "instructor", "assistant", "other_instructor", "registrar"]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, world, role):
    submission_url = submit_files(login(app, world.student), world.assignment, [("a.png", PNG)]).headers["Location"]
    file_id = db.session.execute(db.text("select id from submission_files")).scalar()
    client = app.test_client() if role == "anonymous" else login(app, getattr(world, role))
    a = world.assignment.id
    expected = {
        f"/offerings/{world.offering.id}/assignments": {"student", "other_student", "instructor", "assistant", "registrar"},
        f"/assignments/{a}": {"student", "other_student", "instructor", "assistant", "registrar"},
        f"/assignments/{a}/edit": {"instructor"},
        f"/offerings/{world.offering.id}/assignments/new": {"instructor"},
        submission_url: {"student", "instructor", "assistant", "registrar"},
        f"{submission_url}/files/{file_id}": {"student", "instructor", "assistant", "registrar"},
    }
    for url, allowed in expected.items():
        status = client.get(url).status_code
        if role == "anonymous":
            assert status == 302, url
        else:
            assert status == (200 if role in allowed else 403), f"{role} {url}"
    post = client.post(f"/assignments/{a}/extensions", data={})
    assert post.status_code == (302 if role in ("anonymous", "instructor") else 403)
