"""The registrar offers courses in terms, staffs them and enrolls students (one by one or by CSV)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.catalog import services as catalog
from lms.catalog.models import Enrollment, Lesson, LessonProgress, Offering, OfferingStaff, StaffRole
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.people.conftest import count, row_errors, text, upload


@pytest.fixture
def registrar(auth, make):
    user = make.user(Role.REGISTRAR)
    assert auth.login(user).status_code == 302
    return user


@pytest.fixture
def offering(make):
    return make.offering(make.course(code="GD101", title_en="Game Design Fundamentals"))


def logged_in(app, user):
    other = app.test_client()
    assert other.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302
    return other


def enroll(client, offering, who: str):
    return client.post(f"/registrar/offerings/{offering.id}/enroll", data={"enroll-student": who},
                       follow_redirects=True)


def add_staff(client, offering, email: str, role: str = "instructor"):
    return client.post(f"/registrar/offerings/{offering.id}/staff",
                       data={"staff-email": email, "staff-role": role}, follow_redirects=True)


def enroll_csv(client, offering, content, filename="list.csv"):
    return client.post(f"/registrar/offerings/{offering.id}/enroll-csv",
                       data={"csv-file": upload(content, filename)}, content_type="multipart/form-data")


def enrollments(offering) -> list[str]:
    return sorted(e.student.student_number for e in db.session.scalars(
        select(Enrollment).where(Enrollment.offering_id == offering.id)))


# --- offerings -------------------------------------------------------------------------------

def test_registrar_offers_a_course_in_a_term(client, registrar, make):
    course, term = make.course(code="ART120", title_en="2D Pixel Art"), make.term(name="Autumn 2026")
    response = client.post("/registrar/offerings", data={"course_id": course.id, "term_id": term.id})
    assert response.status_code == 302
    offering = db.session.scalar(select(Offering))
    assert (offering.course_id, offering.term_id) == (course.id, term.id)
    assert response.headers["Location"] == f"/registrar/offerings/{offering.id}"
    page = text(client.get(response.headers["Location"]))
    assert "Offering created." in page and "ART120" in page and "Autumn 2026" in page
    listing = text(client.get("/registrar/offerings"))
    assert "2D Pixel Art" in listing


def test_offering_the_same_course_twice_in_a_term_is_a_message_not_an_error(client, registrar, offering):
    response = client.post("/registrar/offerings",
                           data={"course_id": offering.course_id, "term_id": offering.term_id})
    assert response.status_code == 200
    assert "This course is already offered in that term." in text(response)
    assert count(Offering) == 1


def test_offerings_page_explains_what_is_missing(client, registrar):
    assert "Create at least one course and one term first." in text(client.get("/registrar/offerings"))


# --- staff -----------------------------------------------------------------------------------

def test_registrar_adds_an_instructor_by_email_who_then_sees_the_course(app, client, registrar, make, offering):
    tanaka = make.user(Role.INSTRUCTOR, email="tanaka@example.test", name_latin="Kenji Tanaka")
    page = text(add_staff(client, offering, "TANAKA@example.test"))
    assert "Kenji Tanaka added to the staff." in page
    assert "Kenji Tanaka (Instructor)" in page
    staff = db.session.scalar(select(OfferingStaff))
    assert (staff.user_id, staff.role) == (tanaka.id, StaffRole.INSTRUCTOR)
    assert "Game Design Fundamentals" in text(logged_in(app, tanaka).get("/"))


def test_an_instructor_can_assist_and_cannot_be_added_twice(client, registrar, make, offering):
    sato = make.user(Role.INSTRUCTOR, name_latin="Yui Sato")
    assert "Yui Sato (Teaching assistant)" in text(add_staff(client, offering, sato.email, "assistant"))
    again = text(add_staff(client, offering, sato.email, "instructor"))
    assert "Yui Sato is already on this offering's staff." in again
    assert count(OfferingStaff) == 1


@pytest.mark.parametrize("role", [Role.STUDENT, Role.REGISTRAR])
def test_only_instructors_can_be_staff(client, registrar, make, offering, role):
    person = make.user(role)
    page = text(add_staff(client, offering, person.email))
    assert "Only instructors can teach or assist an offering." in page
    assert count(OfferingStaff) == 0


def test_staff_email_that_matches_nobody_is_a_message(client, registrar, offering):
    assert "No user with the email ghost@example.test." in text(add_staff(client, offering, "ghost@example.test"))
    assert count(OfferingStaff) == 0


def test_removing_a_staff_member(app, client, registrar, make, offering):
    tanaka = make.user(Role.INSTRUCTOR)
    add_staff(client, offering, tanaka.email)
    staff = db.session.scalar(select(OfferingStaff))
    response = client.post(f"/registrar/offerings/{offering.id}/staff/{staff.id}/remove", follow_redirects=True)
    assert "Removed from the staff." in text(response)
    assert count(OfferingStaff) == 0
    assert logged_in(app, tanaka).get(f"/offerings/{offering.id}").status_code == 403


# --- enrollment one by one -------------------------------------------------------------------

@pytest.mark.parametrize("identifier", ["S-AZIZ", "Aziz@Example.test"])
def test_enroll_by_student_number_or_email_and_the_student_sees_the_course(
        app, client, registrar, make, offering, identifier):
    aziz = make.user(Role.STUDENT, email="aziz@example.test", student_number="S-AZIZ", name_latin="Aziz Karimov")
    student = logged_in(app, aziz)
    assert "Game Design Fundamentals" not in text(student.get("/"))
    page = text(enroll(client, offering, identifier))
    assert "Aziz Karimov enrolled." in page and "Students (1)" in page
    assert enrollments(offering) == ["S-AZIZ"]
    home = text(student.get("/"))
    assert "Game Design Fundamentals" in home and "0 of 1 lessons completed" in home


def test_enrolling_twice_is_a_message_and_leaves_one_enrollment(client, registrar, make, offering):
    aziz = make.user(Role.STUDENT, name_latin="Aziz Karimov")
    enroll(client, offering, aziz.student_number)
    response = enroll(client, offering, aziz.student_number)
    assert response.status_code == 200
    assert "Aziz Karimov is already enrolled." in text(response)
    assert count(Enrollment) == 1


def test_an_instructor_cannot_be_enrolled(client, registrar, make, offering):
    tanaka = make.user(Role.INSTRUCTOR, name_latin="Kenji Tanaka")
    assert "Kenji Tanaka is not a student." in text(enroll(client, offering, tanaka.email))
    assert count(Enrollment) == 0


def test_enrolling_an_unknown_student_is_a_message(client, registrar, offering):
    assert "No student with the number or email S-GHOST." in text(enroll(client, offering, "S-GHOST"))
    assert count(Enrollment) == 0


def test_removing_an_enrollment_takes_the_course_off_the_students_home(app, client, registrar, make, offering):
    aziz = make.user(Role.STUDENT)
    enroll(client, offering, aziz.student_number)
    student = logged_in(app, aziz)
    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == offering.course_id))
    assert student.get(f"/offerings/{offering.id}/lessons/{lesson.id}").status_code == 200  # progress row
    assert count(LessonProgress) == 1
    enrollment = db.session.scalar(select(Enrollment))
    response = client.post(f"/registrar/offerings/{offering.id}/enrollments/{enrollment.id}/remove",
                           follow_redirects=True)
    assert "Enrollment removed." in text(response) and "No students enrolled." in text(response)
    assert count(Enrollment) == 0 and count(LessonProgress) == 0
    assert "Game Design Fundamentals" not in text(student.get("/"))
    assert student.get(f"/offerings/{offering.id}").status_code == 403


def test_an_enrollment_cannot_be_removed_through_another_offering(client, registrar, make, offering):
    other = make.offering()
    aziz = make.user(Role.STUDENT)
    enrollment = catalog.enroll(offering, aziz)
    db.session.commit()
    client.post(f"/registrar/offerings/{other.id}/enrollments/{enrollment.id}/remove")
    assert enrollments(offering) == [aziz.student_number]


# --- enrollment by CSV -----------------------------------------------------------------------

def test_csv_enrolls_every_listed_student(app, client, registrar, make, offering):
    students = [make.user(Role.STUDENT, student_number=f"JDU2600{n}") for n in range(1, 4)]
    response = enroll_csv(client, offering, "\ufeffstudent_number\r\nJDU26001\r\nJDU26002\r\n\r\nJDU26003\r\n")
    assert response.status_code == 302
    assert "3 students enrolled." in text(client.get(response.headers["Location"]))
    assert enrollments(offering) == ["JDU26001", "JDU26002", "JDU26003"]
    assert "Game Design Fundamentals" in text(logged_in(app, students[2]).get("/"))


def test_csv_with_one_unknown_number_enrolls_nobody(client, registrar, make, offering):
    make.user(Role.STUDENT, student_number="JDU26001")
    make.user(Role.STUDENT, student_number="JDU26002")
    response = enroll_csv(client, offering, "student_number\nJDU26001\nJDU26999\nJDU26002\n")
    assert response.status_code == 400
    assert "Nothing was saved" in text(response)
    assert row_errors(response) == {3: ["no student with number JDU26999"]}
    assert count(Enrollment) == 0


def test_csv_problems_are_each_listed_with_their_line(client, registrar, make, offering):
    make.user(Role.STUDENT, student_number="JDU26001")
    make.user(Role.INSTRUCTOR, email="tanaka@example.test")
    response = enroll_csv(client, offering, "student_number\nJDU26001\ntanaka@example.test\nJDU26001\n\n")
    assert response.status_code == 400
    assert row_errors(response) == {3: ["no student with number tanaka@example.test"],
                                    4: ["JDU26001 appears twice in the file"]}
    assert count(Enrollment) == 0


def test_csv_listing_an_already_enrolled_student_enrolls_nobody_else(client, registrar, make, offering):
    aziz = make.user(Role.STUDENT, student_number="JDU26001", name_latin="Aziz Karimov")
    make.user(Role.STUDENT, student_number="JDU26002")
    catalog.enroll(offering, aziz)
    db.session.commit()
    response = enroll_csv(client, offering, "student_number\nJDU26002\nJDU26001\n")
    assert response.status_code == 400
    assert row_errors(response) == {3: ["Aziz Karimov is already enrolled."]}
    assert enrollments(offering) == ["JDU26001"]


@pytest.mark.parametrize("content, filename, status, message", [
    ("number\nJDU26001\n", "list.csv", 400, "Missing column(s): student_number."),
    ("student_number\n".encode() + "Иванов\n".encode("cp1251"), "list.csv", 400, "The file is not UTF-8 text."),
    ("student_number\n\n", "list.csv", 400, "The file has no data rows."),
    ("student_number\nJDU26001\n", "list.txt", 302, "Only .csv files are accepted."),  # a flash message
])
def test_csv_file_problems_are_explained(client, registrar, make, offering, content, filename, status, message):
    make.user(Role.STUDENT, student_number="JDU26001")
    response = enroll_csv(client, offering, content, filename)
    assert response.status_code == status
    page = text(client.get(response.headers["Location"])) if status == 302 else text(response)
    assert message in page
    assert count(Enrollment) == 0


def test_csv_upload_without_a_file_asks_for_one(client, registrar, offering):
    response = client.post(f"/registrar/offerings/{offering.id}/enroll-csv", data={},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "Choose a CSV file." in text(response)


def test_html_in_names_and_files_is_escaped_on_the_offering_page(client, registrar, make, offering):
    make.user(Role.STUDENT, student_number="JDU26001", name_latin="<b>Bold</b>")
    enroll(client, offering, "JDU26001")
    response = enroll_csv(client, offering, "student_number\n<img src=x onerror=alert(1)>\n")
    body = response.get_data(as_text=True)
    assert "<b>Bold</b>" not in body and "&lt;b&gt;Bold&lt;/b&gt;" in body
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_only_registrars_and_admins_manage_offerings(app, make, offering):
    aziz = make.user(Role.STUDENT)
    for role, status in ((Role.STUDENT, 403), (Role.INSTRUCTOR, 403), (Role.ADMIN, 200)):
        other = logged_in(app, make.user(role))
        assert other.get(f"/registrar/offerings/{offering.id}").status_code == status
        response = other.post(f"/registrar/offerings/{offering.id}/enroll", data={"enroll-student": aziz.student_number})
        assert response.status_code == (302 if status == 200 else 403)
    assert enrollments(offering) == [aziz.student_number]  # only the admin's request counted
