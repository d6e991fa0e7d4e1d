"""The registrar adds students: one by one with the form, or a whole cohort from a CSV file."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.people.conftest import count, one_time_passwords, row_errors, text, upload

HEADER = "student_number,name_latin,name_kana,email,program,cohort_year\n"


@pytest.fixture
def registrar(auth, make):
    user = make.user(Role.REGISTRAR)
    assert auth.login(user).status_code == 302
    return user


def student_form(program, **changes) -> dict:
    data = {"student_number": "JDU26001", "name_latin": "Aziz Karimov", "name_kana": "",
            "email": "aziz@example.com", "program_id": str(program.id), "cohort_year": "2026"}
    data.update(changes)
    return data


def import_file(client, content, filename="students.csv"):
    return client.post("/registrar/students/import", data={"file": upload(content, filename)},
                       content_type="multipart/form-data")


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# --- one student with the form ---------------------------------------------------------------

def test_registrar_creates_a_student_and_sees_the_one_time_password(client, registrar, program):
    response = client.post("/registrar/students/new", data=student_form(program, email="Aziz@Example.com"))
    assert response.status_code == 200
    passwords = one_time_passwords(response)
    assert list(passwords) == ["aziz@example.com"]
    assert len(passwords["aziz@example.com"]) >= 8
    student = user_by_email("aziz@example.com")
    assert student.role == Role.STUDENT and student.student_number == "JDU26001"
    assert student.program_id == program.id and student.cohort_year == 2026
    assert student.must_change_password
    listing = text(client.get("/registrar/students"))
    assert "JDU26001" in listing and "Aziz Karimov" in listing and "not yet logged in" in listing


def test_new_student_logs_in_with_the_one_time_password_and_must_change_it(app, client, registrar, program):
    password = one_time_passwords(client.post("/registrar/students/new", data=student_form(program)))[
        "aziz@example.com"]
    student_client = app.test_client()
    login = student_client.post("/login", data={"login": "JDU26001", "password": password})
    assert login.status_code == 302
    home = student_client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/account/password"
    changed = student_client.post("/account/password", data={
        "current": password, "new": "my own long secret 7", "confirm": "my own long secret 7"})
    assert changed.status_code == 302
    assert student_client.get("/").status_code == 200


@pytest.mark.parametrize("clash, message", [
    ({"student_number": "S-TAKEN", "email": "fresh@example.com"}, "Student number S-TAKEN is already taken."),
    ({"student_number": "JDU26099", "email": "TAKEN@example.com"},
     "A user with the email taken@example.com already exists."),
])
def test_duplicate_student_number_or_email_is_refused(client, registrar, program, make, clash, message):
    make.user(Role.STUDENT, email="taken@example.com", student_number="S-TAKEN")
    before = count(User)
    response = client.post("/registrar/students/new", data=student_form(program, **clash))
    assert response.status_code == 200
    assert message in text(response)
    assert "One-time password" not in text(response)
    assert count(User) == before


def test_katakana_name_is_accepted(client, registrar, program):
    response = client.post("/registrar/students/new", data=student_form(program, name_kana="アジズ・カリモフ"))
    assert "aziz@example.com" in one_time_passwords(response)
    assert user_by_email("aziz@example.com").name_kana == "アジズ・カリモフ"
    assert "アジズ・カリモフ" in text(client.get("/registrar/students"))


@pytest.mark.parametrize("field, value, message", [
    ("name_latin", "Aziz Karimov 2", "Use Latin letters."),
    ("name_kana", "あじず", "Use katakana."),
    ("student_number", "JDU 26001", "3–20 letters, digits or dashes."),
    ("email", "not-an-email", "Invalid email address."),
    ("cohort_year", "1999", "Number must be between 2000 and 2100."),
])
def test_invalid_student_fields_are_refused(client, registrar, program, field, value, message):
    response = client.post("/registrar/students/new", data=student_form(program, **{field: value}))
    assert response.status_code == 200
    assert message in text(response)
    assert count(User) == 1  # only the registrar


def test_only_registrars_and_admins_manage_students(app, client, make):
    anonymous = client.get("/registrar/students")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    for role, status in ((Role.STUDENT, 403), (Role.INSTRUCTOR, 403), (Role.ADMIN, 200)):
        other = app.test_client()
        other.post("/login", data={"login": make.user(role).email, "password": PASSWORD})
        assert other.get("/registrar/students").status_code == status
        assert other.get("/registrar/students/import").status_code == status


def test_student_list_filters_by_program_and_cohort(client, registrar, program, make):
    make.user(Role.STUDENT, student_number="IN-PROG", program_id=program.id, cohort_year=2026)
    make.user(Role.STUDENT, student_number="OLD-COHORT", program_id=program.id, cohort_year=2025)
    make.user(Role.STUDENT, student_number="NO-PROG", cohort_year=2026)
    page = text(client.get("/registrar/students", query_string={"program": program.id, "cohort": 2026}))
    assert "IN-PROG" in page and "OLD-COHORT" not in page and "NO-PROG" not in page


# --- a cohort from a CSV file ----------------------------------------------------------------

GOOD = (HEADER
        + "JDU26001,Aziz Karimov,アジズ・カリモフ,aziz@example.com,jdu-game-dev,2026\n"
        + "JDU26002,Malika Tursunova,,Malika@Example.com,jdu-game-dev,2026\n"
        + "JDU26003,Oʻgʻiloy O'Neil-Rahimova,オギロイ,ogiloy@example.com,jdu-game-dev,2026\n")


@pytest.mark.parametrize("encode", [
    pytest.param(lambda s: s.encode("utf-8"), id="utf-8"),
    pytest.param(lambda s: b"\xef\xbb\xbf" + s.replace("\n", "\r\n").encode("utf-8"), id="excel-bom-crlf"),
])
def test_import_creates_every_student_and_shows_their_passwords(app, client, registrar, program, encode):
    response = import_file(client, encode(GOOD))
    assert response.status_code == 200
    passwords = one_time_passwords(response)
    assert set(passwords) == {"aziz@example.com", "malika@example.com", "ogiloy@example.com"}
    aziz = user_by_email("aziz@example.com")
    assert aziz.student_number == "JDU26001" and aziz.name_kana == "アジズ・カリモフ"
    assert aziz.program_id == program.id and aziz.cohort_year == 2026 and aziz.role == Role.STUDENT
    assert user_by_email("malika@example.com").name_kana is None
    student_client = app.test_client()
    login = student_client.post("/login", data={"login": "JDU26002", "password": passwords["malika@example.com"]})
    assert login.status_code == 302
    assert student_client.get("/").headers["Location"] == "/account/password"


def test_import_with_bad_rows_lists_each_line_and_creates_nobody(client, registrar, program, make):
    make.user(Role.STUDENT, email="existing@example.com", student_number="JDU25001")
    content = (HEADER
               + "JDU26001,Aziz Karimov,,aziz@example.com,jdu-game-dev,2026\n"        # 2: fine
               + "\n"                                                                 # 3: blank, skipped
               + "JDU26002,Malika Tursunova,,malika-at-example,jdu-game-dev,2026\n"   # 4
               + "JDU26003,Timur Aliyev,,timur@example.com,no-such-program,2026\n"   # 5
               + "JDU26001,Aziz Twin,,twin@example.com,jdu-game-dev,2026\n"          # 6
               + "JDU26005,Old Friend,,EXISTING@example.com,jdu-game-dev,2026\n"     # 7
               + "JDU26006,Kana Wrong,かな,kana@example.com,jdu-game-dev,2026\n"      # 8
               + "JDU26007,Year Wrong,,year@example.com,jdu-game-dev,26\n"           # 9
               + "JDU25001,Number Taken,,taken@example.com,jdu-game-dev,2026\n")     # 10
    before = count(User)
    response = import_file(client, content)
    assert response.status_code == 400
    assert "Nothing was saved" in text(response)
    errors = row_errors(response)
    assert sorted(errors) == [4, 5, 6, 7, 8, 9, 10]
    assert errors[4] == ["email is not a valid address"]
    assert errors[5] == ["program no-such-program does not exist"]
    assert errors[6] == ["JDU26001 appears twice in the file"]
    assert errors[7] == ["a user with email existing@example.com already exists"]
    assert errors[8] == ["name_kana must be katakana"]
    assert errors[9] == ["cohort_year must be a year such as 2026"]
    assert errors[10] == ["student number JDU25001 already exists"]
    assert count(User) == before
    assert user_by_email("aziz@example.com") is None


@pytest.mark.parametrize("year", ["", "abc", "1999", "2101", "2026.0", "2026²"])
def test_import_refuses_a_bad_cohort_year_without_crashing(client, registrar, program, year):
    response = import_file(client, HEADER + f"JDU26001,Aziz Karimov,,aziz@example.com,jdu-game-dev,{year}\n")
    assert response.status_code == 400
    assert row_errors(response) == {2: ["cohort_year must be a year such as 2026"]}
    assert count(User) == 1


def test_import_accepts_full_width_digits_in_the_cohort_year(client, registrar, program):
    response = import_file(client, HEADER + "JDU26001,Aziz Karimov,,aziz@example.com,jdu-game-dev,２０２６\n")
    assert response.status_code == 200
    assert user_by_email("aziz@example.com").cohort_year == 2026


def test_import_names_the_missing_column(client, registrar, program):
    content = "student_number,name_latin,email,program,cohort_year\nJDU26001,Aziz,aziz@example.com,jdu-game-dev,2026\n"
    response = import_file(client, content)
    assert response.status_code == 400
    assert row_errors(response)[1][0].startswith("Missing column(s): name_kana.")
    assert count(User) == 1


def test_import_of_a_non_utf8_file_says_how_to_save_it(client, registrar, program):
    content = (HEADER + "JDU26001,Иван Петров,,ivan@example.com,jdu-game-dev,2026\n").encode("cp1251")
    response = import_file(client, content)
    assert response.status_code == 400
    assert "The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again." in text(response)
    assert count(User) == 1


@pytest.mark.parametrize("content, message", [
    (b"", "Missing column(s)"),
    (HEADER.encode(), "The file has no data rows."),
    ((HEADER + ",,,,,\n\n").encode(), "The file has no data rows."),
])
def test_import_of_an_empty_file_is_refused_with_a_message(client, registrar, program, content, message):
    response = import_file(client, content)
    assert response.status_code == 400
    assert message in text(response)
    assert count(User) == 1


def test_import_refuses_a_file_that_is_not_csv(client, registrar, program):
    response = import_file(client, GOOD, filename="students.xlsx")
    assert response.status_code == 400
    assert "Only .csv files are accepted." in text(response)
    assert count(User) == 1


def test_import_without_a_file_asks_for_one(client, registrar, program):
    response = client.post("/registrar/students/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file." in text(response)


def test_import_refuses_files_over_the_row_limit(app, client, registrar, program):
    app.config["CSV_MAX_ROWS"] = 2
    content = HEADER + "".join(f"JDU2600{n},Student Name,,s{n}@example.com,jdu-game-dev,2026\n" for n in range(3))
    response = import_file(client, content)
    assert response.status_code == 400
    assert "More than 2 rows; split the file." in text(response)
    assert count(User) == 1


def test_html_in_the_file_is_shown_escaped(client, registrar, program):
    content = HEADER + "JDU26001,Aziz Karimov,,aziz@example.com,<script>alert(1)</script>,2026\n"
    response = import_file(client, content)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert row_errors(response) == {2: ["program <script>alert(1)</script> does not exist"]}
