"""Administration: staff accounts, roles, disabling, password resets, and the reference tables."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.catalog.models import PartnerUniversity, Program, Term
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.people.conftest import count, one_time_passwords, text

WRONG_LOGIN = "Wrong email, student number or password."


@pytest.fixture
def admin(auth, make):
    user = make.user(Role.ADMIN, name_latin="Dilnoza Rashidova")
    assert auth.login(user).status_code == 302
    return user


def logged_in(app, user, password=PASSWORD):
    other = app.test_client()
    assert other.post("/login", data={"login": user.email, "password": password}).status_code == 302
    return other


def login_status(app, login, password) -> tuple[int, str]:
    response = app.test_client().post("/login", data={"login": login, "password": password})
    return response.status_code, text(response)


# --- accounts --------------------------------------------------------------------------------

def test_admin_creates_a_staff_account_with_a_one_time_password(app, client, admin):
    response = client.post("/admin/users", data={"name_latin": "Kenji Tanaka", "email": "Tanaka@Example.com",
                                                 "role": "instructor"})
    assert response.status_code == 200
    password = one_time_passwords(response)["tanaka@example.com"]
    tanaka = db.session.scalar(select(User).where(User.email == "tanaka@example.com"))
    assert tanaka.role == Role.INSTRUCTOR and tanaka.must_change_password
    instructor = app.test_client()
    assert instructor.post("/login", data={"login": "tanaka@example.com", "password": password}).status_code == 302
    assert instructor.get("/").headers["Location"] == "/account/password"
    assert "Kenji Tanaka" in text(client.get("/admin/users"))


@pytest.mark.parametrize("data, message", [
    ({"name_latin": "Second Admin", "email": "taken@example.com", "role": "admin"},
     "A user with the email taken@example.com already exists."),
    ({"name_latin": "No Email", "email": "not-an-email", "role": "registrar"}, "Invalid email address."),
    ({"name_latin": "Sneaky", "email": "sneaky@example.com", "role": "student"}, "Not a valid choice."),
])
def test_bad_staff_accounts_are_refused_with_a_message(client, admin, make, data, message):
    make.user(Role.INSTRUCTOR, email="taken@example.com")
    before = count(User)
    response = client.post("/admin/users", data=data, follow_redirects=True)
    assert message in text(response)
    assert count(User) == before


def test_user_search_finds_by_name_email_or_student_number(client, admin, make):
    make.user(Role.STUDENT, name_latin="Aziz Karimov", student_number="JDU26001")
    make.user(Role.STUDENT, name_latin="Malika Tursunova", student_number="JDU26002")
    for q in ("karimov", "JDU26001", "student"):
        page = text(client.get("/admin/users", query_string={"q": q}))
        assert "Aziz Karimov" in page
        assert ("Malika Tursunova" in page) == (q == "student")  # both emails start with student


def test_html_in_a_staff_name_is_shown_escaped(client, admin):
    client.post("/admin/users", data={"name_latin": "<script>alert(1)</script>", "email": "x@example.com",
                                      "role": "instructor"})
    body = client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_changing_a_role_ends_the_users_session(app, client, admin, make):
    user = make.user(Role.STUDENT)
    session = logged_in(app, user)
    assert session.get("/").status_code == 200
    response = client.post(f"/admin/users/{user.id}", data={"role": "instructor"}, follow_redirects=True)
    assert "Role changed; the user must log in again." in text(response)
    assert db.session.get(User, user.id).role == Role.INSTRUCTOR
    kicked = session.get("/")
    assert kicked.status_code == 302 and kicked.headers["Location"].startswith("/login")
    again = logged_in(app, user)
    assert "Course authoring" in text(again.get("/"))


def test_saving_a_role_unchanged_ends_nobodys_session(app, client, admin, make):
    own = client.post(f"/admin/users/{admin.id}", data={"role": "admin"}, follow_redirects=True)
    assert own.status_code == 200 and "The role is unchanged." in text(own)
    assert client.get("/admin/users").status_code == 200
    user = make.user(Role.STUDENT)
    session = logged_in(app, user)
    assert "The role is unchanged." in text(client.post(f"/admin/users/{user.id}", data={"role": "student"},
                                                        follow_redirects=True))
    assert session.get("/").status_code == 200


def test_an_admin_cannot_take_away_their_own_admin_role(client, admin):
    response = client.post(f"/admin/users/{admin.id}", data={"role": "registrar"})
    assert "You cannot take away your own administrator role." in text(response)
    assert db.session.get(User, admin.id).role == Role.ADMIN
    assert client.get("/admin/users").status_code == 200


def test_disabling_ends_the_session_and_refuses_the_right_password(app, client, admin, make):
    user = make.user(Role.INSTRUCTOR)
    session = logged_in(app, user)
    response = client.post(f"/admin/users/{user.id}/disable", follow_redirects=True)
    assert "Account disabled." in text(response)
    kicked = session.get("/")
    assert kicked.status_code == 302 and kicked.headers["Location"].startswith("/login")
    right = login_status(app, user.email, PASSWORD)
    wrong = login_status(app, user.email, "not-the-password")
    assert right[0] == wrong[0] == 401
    assert WRONG_LOGIN in right[1] and WRONG_LOGIN in wrong[1]
    assert "disabled" not in right[1].split("<main", 1)[1].lower()
    assert "Account enabled." in text(client.post(f"/admin/users/{user.id}/disable", follow_redirects=True))
    assert login_status(app, user.email, PASSWORD)[0] == 302


def test_an_admin_cannot_disable_themselves(client, admin):
    response = client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "You cannot disable your own account." in text(response)
    assert not db.session.get(User, admin.id).disabled
    assert client.get("/admin/users").status_code == 200


def test_reset_password_gives_a_one_time_password_that_must_be_changed(app, client, admin, make):
    user = make.user(Role.STUDENT, email="aziz@example.com")
    session = logged_in(app, user)
    response = client.post(f"/admin/users/{user.id}/reset-password")
    new_password = one_time_passwords(response)["aziz@example.com"]
    assert new_password != PASSWORD
    assert session.get("/").status_code == 302  # the old session ended
    assert login_status(app, user.email, PASSWORD)[0] == 401
    fresh = logged_in(app, user, new_password)
    assert fresh.get("/").headers["Location"] == "/account/password"


@pytest.mark.parametrize("role", [Role.REGISTRAR, Role.INSTRUCTOR, Role.STUDENT])
def test_only_admins_manage_users(app, make, role):
    user = make.user(role)
    target = make.user(Role.STUDENT)
    other = logged_in(app, user)
    assert other.get("/admin/users").status_code == 403
    assert other.post("/admin/users", data={"name_latin": "X", "email": "x@example.com",
                                            "role": "admin"}).status_code == 403
    assert other.post(f"/admin/users/{target.id}/disable").status_code == 403
    assert other.post(f"/admin/users/{target.id}/reset-password").status_code == 403
    assert count(User) == 2 and not db.session.get(User, target.id).disabled


# --- partners, programs, terms ---------------------------------------------------------------

def test_partners_are_created_and_edited(client, admin):
    response = client.post("/admin/partners/new", data={"code": "kansai-game-tech", "name_en": "Kansai Institute",
                                                        "name_ja": "関西ゲーム工科大学"}, follow_redirects=True)
    assert "Saved." in text(response) and "Kansai Institute" in text(response)
    partner = db.session.scalar(select(PartnerUniversity))
    client.post(f"/admin/partners/{partner.id}", data={"code": "kansai-game-tech",
                                                       "name_en": "Kansai Institute of Game Technology", "name_ja": ""})
    partner = db.session.get(PartnerUniversity, partner.id)
    assert partner.name_en == "Kansai Institute of Game Technology" and partner.name_ja is None
    assert count(PartnerUniversity) == 1


def test_a_duplicate_code_is_a_form_error(client, admin, make):
    make.term(code="2026-autumn")
    other = make.term(code="2027-spring")
    response = client.post("/admin/terms/new", data={"code": "2026-autumn", "name": "Again",
                                                     "starts_on": "2026-09-01", "ends_on": "2027-01-31"})
    assert response.status_code == 200 and "This code is already used." in text(response)
    renamed = client.post(f"/admin/terms/{other.id}", data={"code": "2026-autumn", "name": "Spring",
                                                            "starts_on": "2027-04-01", "ends_on": "2027-07-31"})
    assert "This code is already used." in text(renamed)
    assert db.session.get(Term, other.id).code == "2027-spring" and count(Term) == 2


def test_a_registrar_may_set_a_terms_japanese_semester(client, admin):
    data = {"code": "2027-spring", "name": "Spring 2027", "starts_on": "2027-02-01", "ends_on": "2027-06-30",
            "ja_semester": "", "ja_year": ""}
    assert client.post("/admin/terms/new", data=data).status_code == 302
    term = db.session.scalar(select(Term))
    assert (term.ja_year, term.ja_semester) == (None, None)  # 前期 of 2027 by its teaching days
    client.post(f"/admin/terms/{term.id}", data=data | {"ja_semester": "後期", "ja_year": "2026"})
    term = db.session.get(Term, term.id)
    assert (term.ja_year, term.ja_semester) == (2026, "後期")


@pytest.mark.parametrize("ends_on", ["2026-08-31", "2026-09-01"])
def test_a_term_must_end_after_it_starts(client, admin, ends_on):
    response = client.post("/admin/terms/new", data={"code": "2026-autumn", "name": "Autumn 2026",
                                                     "starts_on": "2026-09-01", "ends_on": ends_on})
    assert "The term must end after it starts." in text(response)
    assert count(Term) == 0


def test_programs_link_to_a_partner_or_none(client, admin):
    partner = PartnerUniversity(code="sakura-digital", name_en="Sakura University")
    db.session.add(partner)
    db.session.commit()
    data = {"code": "jdu-digital-art", "name_en": "JDU Digital Art", "name_ja": "", "partner_id": partner.id,
            "ja_credits_required": 124, "uz_credits_required": 240}
    assert client.post("/admin/programs/new", data=data).status_code == 302
    program = db.session.scalar(select(Program))
    assert program.partner_id == partner.id and program.name_ja is None
    assert client.get(f"/admin/programs/{program.id}").status_code == 200
    client.post(f"/admin/programs/{program.id}", data={**data, "partner_id": 0, "ja_credits_required": 130})
    program = db.session.get(Program, program.id)
    assert program.partner_id is None and program.ja_credits_required == 130
    assert "jdu-digital-art" in text(client.get("/admin/programs"))


def test_a_registrar_manages_programs_and_terms_but_not_partners_or_users(client, auth, make):
    auth.login(make.user(Role.REGISTRAR))
    assert client.get("/admin/programs").status_code == 200
    assert client.get("/admin/terms/new").status_code == 200
    response = client.post("/admin/terms/new", data={"code": "2026-autumn", "name": "Autumn 2026",
                                                     "starts_on": "2026-09-01", "ends_on": "2027-01-31"})
    assert response.status_code == 302
    term = db.session.scalar(select(Term))
    assert (term.starts_on, term.ends_on) == (date(2026, 9, 1), date(2027, 1, 31))
    assert client.get("/admin/partners").status_code == 403
    assert client.post("/admin/partners/new", data={"code": "x-uni", "name_en": "X"}).status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert count(PartnerUniversity) == 0


def test_reference_pages_for_other_roles_and_unknown_kinds(app, client, make):
    anonymous = client.get("/admin/terms")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    instructor = logged_in(app, make.user(Role.INSTRUCTOR))
    assert instructor.get("/admin/programs").status_code == 403
    assert instructor.get("/admin/courses").status_code == 404
