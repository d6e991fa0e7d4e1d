"""The record's pages: the role matrix, a student's own record, the cohort view."""
from datetime import date
from decimal import Decimal

import pytest

from lms.auth.models import Role
from lms.extensions import db
from lms.records import cohort, services
from lms.records.models import RecognisedCredit
from tests.records.test_workflow import World


@pytest.fixture
def world(make):
    world = World(make)
    a, b = world.students
    services.submit_offering(world.offering, {a.id: Decimal(95), b.id: Decimal(40)}, world.registrar.id)
    services.finalize_offering(world.offering, world.registrar.id)
    db.session.commit()
    return world


def test_role_matrix(client, auth, make, world):
    a, b = world.students
    other_instructor, admin = make.user(Role.INSTRUCTOR), make.user(Role.ADMIN)
    offering = world.offering.id
    cases = [  # who, path, status
        (a, "/records/me", 200), (a, f"/records/students/{a.id}", 302), (a, f"/records/students/{b.id}", 403),
        (a, "/records/cohorts", 403), (a, f"/records/offerings/{offering}/submit", 403),
        (a, f"/records/offerings/{offering}", 403),
        (world.instructor, f"/records/offerings/{offering}/submit", 200),
        (world.instructor, f"/records/offerings/{offering}", 403),
        (world.instructor, f"/records/students/{a.id}", 403), (world.instructor, "/records/me", 403),
        (other_instructor, f"/records/offerings/{offering}/submit", 403),
        (world.registrar, f"/records/students/{a.id}", 200), (world.registrar, "/records/cohorts", 200),
        (world.registrar, f"/records/offerings/{offering}", 200),
        (world.registrar, f"/records/offerings/{offering}/submit", 200),
        (admin, f"/records/students/{b.id}", 200), (admin, f"/records/students/{world.instructor.id}", 403),
    ]
    for who, path, status in cases:
        auth.login(who)
        assert client.get(path).status_code == status, (who.role, path)
        auth.logout()
    assert client.get("/records/me").status_code == 302  # anonymous: to the login page
    auth.login(a)
    result_id = services.offering_results(offering)[a.id].id
    assert client.post(f"/records/results/{result_id}/amend", data={"new_raw": "10", "reason": "x"}).status_code == 403


def test_student_sees_progress_in_both_systems(client, auth, world):
    a, b = world.students
    auth.login(b)
    page = client.get("/records/me").get_data(as_text=True)
    assert "/ 124" in page and "/ 240" in page and "<progress" in page
    assert "Failed courses to retake" in page and world.course.code in page
    assert "2026年度" in page and "2026/2027" in page
    auth.logout()
    auth.login(a)
    page = client.get("/records/me").get_data(as_text=True)
    assert "Failed courses" not in page and "4.00" in page  # GPA of an S
    exports = "record_exports.student_transcript" in client.application.view_functions
    assert ("Download transcript" in page) == exports


def test_nav_links(client, auth, world):
    auth.login(world.students[0])
    assert 'href="/records/me"' in client.get("/records/me").get_data(as_text=True)
    auth.logout()
    auth.login(world.registrar)
    assert 'href="/records/cohorts"' in client.get("/records/cohorts").get_data(as_text=True)


def test_semesters_completed():
    assert cohort.semesters_completed(2024, date(2024, 8, 31)) == 0
    assert cohort.semesters_completed(2024, date(2025, 3, 1)) == 1
    assert cohort.semesters_completed(2024, date(2025, 9, 1)) == 2
    assert cohort.semesters_completed(2020, date(2030, 1, 1)) == 8


def test_cohort_behind_filter_and_sort(client, auth, make, world, monkeypatch):
    a, b = world.students
    c = make.user(Role.STUDENT, program_id=world.program.id, cohort_year=2024)
    services.recognise_credits(c, "Transfer", "Elsewhere", Decimal(40), world.registrar)
    make.user(Role.STUDENT, program_id=world.program.id, cohort_year=2023)  # another cohort
    db.session.commit()
    monkeypatch.setattr(cohort, "today", lambda: date(2025, 3, 1))  # 1 semester: 15.5 JP / 30 UZ expected
    auth.login(world.registrar)
    base = f"/records/cohorts?program={world.program.id}&year=2024"
    page = client.get(base + "&sort=-ja_credits").get_data(as_text=True)
    order = [page.index(s.student_number) for s in (c, a, b)]
    assert order == sorted(order)  # 40, 2, 0 credits
    behind = client.get(base + "&behind=1").get_data(as_text=True)
    assert a.student_number in behind and b.student_number in behind and c.student_number not in behind
    page = client.get(base + "&sort=ja_gpa").get_data(as_text=True)  # c has no GPA: last either way
    order = [page.index(s.student_number) for s in (b, a, c)]
    assert order == sorted(order)


def test_cohort_page_runs_a_constant_number_of_queries(client, auth, make, count_queries):
    world = World(make, students=0)
    counts = []
    for year, size in ((2024, 5), (2025, 20)):
        students = [make.user(Role.STUDENT, program_id=world.program.id, cohort_year=year) for _ in range(size)]
        for course in (make.course(partner_id=world.partner.id), make.course(partner_id=world.partner.id)):
            offering = make.offering(course, students=students)
            services.submit_offering(offering, {s.id: Decimal(55 + i) for i, s in enumerate(students)},
                                     world.registrar.id)
            services.finalize_offering(offering, world.registrar.id)
        db.session.add(RecognisedCredit(student_id=students[0].id, title="T", institution="I", ja_credits=2))
        db.session.commit()
        auth.login(world.registrar)
        with count_queries() as counter:
            page = client.get(f"/records/cohorts?program={world.program.id}&year={year}&sort=-uz_score")
        assert page.status_code == 200 and page.get_data(as_text=True).count('class="num"') >= size * 5
        counts.append(counter.count)
        auth.logout()
    assert counts[0] == counts[1], counts
