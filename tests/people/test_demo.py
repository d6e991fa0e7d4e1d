"""`flask lms demo`: the demo data and the real courses/ folder, loaded once, never in production."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.catalog.models import (Course, Enrollment, Lesson, Offering, OfferingStaff, PartnerUniversity, Program,
                                StaffRole, Term)
from lms.demo import DEMO_PASSWORD, demo_logins
from lms.extensions import db
from tests.conftest import make_app
from tests.people.conftest import count, text

COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"


@pytest.fixture
def demo_runner(app, runner):
    app.config["COURSES_DIR"] = str(COURSES_DIR)
    return runner


def snapshot() -> dict[str, list]:
    """Every row of every table, in a stable order."""
    with db.engine.connect() as conn:
        return {table.name: sorted(map(repr, conn.execute(table.select()).all()))
                for table in db.metadata.sorted_tables}


def test_demo_loads_courses_offerings_staff_and_students(app, demo_runner):
    result = demo_runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert "demo data loaded" in result.output
    assert sorted(db.session.scalars(select(Course.code))) == ["ART120", "GD101"]
    assert count(Lesson) > 10
    assert count(PartnerUniversity) == 2 and count(Program) == 2 and count(Term) == 2
    offerings = {o.course.code: o for o in db.session.scalars(select(Offering))}
    assert set(offerings) == {"ART120", "GD101"}
    staff = {(s.offering.course.code, s.user.email, s.role) for s in db.session.scalars(select(OfferingStaff))}
    assert staff == {("GD101", "tanaka@demo.jdu.uz", StaffRole.INSTRUCTOR),
                     ("GD101", "sato@demo.jdu.uz", StaffRole.ASSISTANT),
                     ("ART120", "sato@demo.jdu.uz", StaffRole.INSTRUCTOR)}
    enrolled = {(e.offering.course.code, e.student.student_number) for e in db.session.scalars(select(Enrollment))}
    assert enrolled == {(code, n) for code in ("GD101", "ART120") for n in ("JDU26001", "JDU26002", "JDU26003")}
    aziz = db.session.scalar(select(User).where(User.student_number == "JDU26001"))
    assert aziz.name_kana == "アジズ・カリモフ" and aziz.program.code == "jdu-game-dev" and aziz.cohort_year == 2026
    copied = Path(app.config["MEDIA_ROOT"]) / "course-assets" / "pixel-art-2d"
    assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in (COURSES_DIR / "pixel-art-2d" / "assets").iterdir())


def test_every_demo_login_works_straight_away(app, demo_runner):
    assert demo_runner.invoke(args=["lms", "demo"]).exit_code == 0
    logins = demo_logins()
    assert {role for role, _email, _pw in logins} == {str(r) for r in Role}
    for _role, email, password in logins:
        assert password == DEMO_PASSWORD
        client = app.test_client()
        response = client.post("/login", data={"login": email, "password": password})
        assert response.status_code == 302, email
        home = client.get("/")
        assert home.status_code == 200, email  # no forced password change for demo users
        page = text(home)
        assert "Game Design Fundamentals" in page, email
        # Tanaka teaches only GD101; everyone else teaches, studies or oversees both courses.
        assert ("2D Pixel Art for Games" in page) == (email != "tanaka@demo.jdu.uz"), email
    by_number = app.test_client()
    assert by_number.post("/login", data={"login": "JDU26003", "password": DEMO_PASSWORD}).status_code == 302


def test_demo_logins_are_printed(demo_runner):
    output = demo_runner.invoke(args=["lms", "logins"]).output
    for _role, email, password in demo_logins():
        assert email in output and password in output


def test_running_the_demo_twice_changes_nothing(demo_runner):
    assert demo_runner.invoke(args=["lms", "demo"]).exit_code == 0
    before = snapshot()
    again = demo_runner.invoke(args=["lms", "demo"])
    assert again.exit_code == 0
    assert "database already has users; demo data left as it is" in again.output
    assert snapshot() == before
    assert {name: len(rows) for name, rows in snapshot().items()} == {name: len(rows) for name, rows in before.items()}


def test_demo_leaves_a_database_with_real_users_alone(demo_runner, make):
    make.user(Role.ADMIN, email="real-admin@example.test")
    before = snapshot()
    result = demo_runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0 and "demo data left as it is" in result.output
    assert snapshot() == before


def test_demo_refuses_in_production(migrated_url, tmp_path, app):
    production = make_app(migrated_url, tmp_path, PRODUCTION=True, COURSES_DIR=str(COURSES_DIR))
    # The CLI reuses a pushed app context, so push the production app's own.
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["lms", "demo"])
        db.engine.dispose()
    assert result.exit_code != 0
    assert "Demo data is not loaded in production." in result.output
    assert count(User) == 0 and count(Course) == 0


def test_demo_has_a_finished_term_with_a_dual_degree_record(app, demo_runner):
    from decimal import Decimal

    from lms.records.record import student_record

    assert demo_runner.invoke(args=["lms", "demo"]).exit_code == 0
    aziz = db.session.scalar(select(User).where(User.student_number == "JDU26001"))
    record = student_record(aziz.id, finalized_only=True)
    art = next(line for line in record.lines if line.course_code == "ART120")
    assert (art.raw, art.letter, art.state, art.term_name) == (Decimal("88.50"), "A", "finalized", "Spring 2026")
    assert art.ja_scheme.endswith("v1") and art.uz_grade == 4
    assert record.totals.ja_credits == 4 and record.totals.ja_recognised == 2  # ART120 + JLPT N3 (認定)
    client = app.test_client()
    client.post("/login", data={"login": "aziz@demo.jdu.uz", "password": DEMO_PASSWORD})
    page = client.get("/records/me").get_data(as_text=True)
    assert "ART120" in page and "JLPT N3" in page
