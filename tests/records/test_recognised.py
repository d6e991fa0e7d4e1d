"""A registrar records credits recognised from elsewhere (認定), up to the 60-credit cap."""
from decimal import Decimal

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.extensions import db
from lms.records.models import RecognisedCredit


def login(app, user):
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": "correct-horse-battery"})
    return client


def test_registrar_records_recognised_credits_within_the_cap(app, make):
    student, registrar = make.user(Role.STUDENT), make.user(Role.REGISTRAR)
    client = login(app, registrar)
    url = f"/records/students/{student.id}/recognised"
    ok = client.post(url, data={"title": "JLPT N2", "institution": "Japan Foundation", "ja_credits": "58"},
                     follow_redirects=True)
    assert "Recognised credits recorded" in ok.get_data(as_text=True) and "JLPT N2" in ok.get_data(as_text=True)
    over = client.post(url, data={"title": "More", "institution": "Elsewhere", "ja_credits": "4"}, follow_redirects=True)
    assert "At most 60 recognised credits" in over.get_data(as_text=True)
    assert db.session.scalar(select(func.sum(RecognisedCredit.ja_credits))) == Decimal(58)


def test_students_and_instructors_cannot_record_them(app, make):
    student, instructor = make.user(Role.STUDENT), make.user(Role.INSTRUCTOR)
    for who in (student, instructor):
        response = login(app, who).post(f"/records/students/{student.id}/recognised",
                                        data={"title": "x", "institution": "y", "ja_credits": "2"})
        assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(RecognisedCredit)) == 0


def test_credit_figures_read_as_people_write_them(app, make):
    student = make.user(Role.STUDENT)
    db.session.add(RecognisedCredit(student_id=student.id, title="N3", institution="JF", ja_credits=Decimal("2.0")))
    db.session.commit()
    page = login(app, student).get("/records/me").get_data(as_text=True)
    assert "240.00" not in page and "Credits left: 122" in page  # 124 − 2, not 122.0
