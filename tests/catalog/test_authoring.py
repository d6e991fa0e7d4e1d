"""Instructors build courses in the browser: courses, modules, lessons, preview, and who may edit."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.catalog.models import Course, Lesson, Module
from lms.extensions import db

COURSE_FORM = {"code": "GD101", "title_en": "Game Design Fundamentals", "title_ja": "ゲームデザインの基礎",
               "summary_en": "Make games.", "summary_ja": "", "credits": "2", "hours": "90"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def lesson_form(lesson: Lesson, **changes) -> dict:
    data = {"title_en": lesson.title_en, "title_ja": lesson.title_ja or "", "module_id": str(lesson.module_id),
            "minutes": str(lesson.minutes), "body_md": lesson.body_md, "published": "y"}
    data.update(changes)
    return data


def first_lesson(course) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))


def test_instructor_builds_a_course_in_the_browser(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    auth.login(instructor)

    response = client.post("/authoring/courses/new", data=COURSE_FORM)
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.code == "GD101"))
    assert response.headers["Location"].endswith(f"/authoring/courses/{course.id}")
    assert (course.title_ja, course.credits, course.hours, course.slug) == ("ゲームデザインの基礎", Decimal("2"), 90, None)
    assert course.created_by_id == instructor.id

    response = client.post(f"/authoring/courses/{course.id}/modules", data={"module-title_en": "What Makes a Game"})
    assert response.status_code == 302
    module = db.session.scalar(select(Module).where(Module.course_id == course.id))
    assert (module.title_en, module.key) == ("What Makes a Game", "what-makes-a-game")
    assert "What Makes a Game" in client.get(f"/authoring/courses/{course.id}").get_data(as_text=True)

    response = client.post(f"/authoring/courses/{course.id}/lessons/new", data={
        "title_en": "Core loop", "module_id": str(module.id), "minutes": "20",
        "body_md": "First draft.", "published": "y"})
    assert response.status_code == 302
    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))
    assert response.headers["Location"].endswith(f"/authoring/lessons/{lesson.id}")
    assert (lesson.module_id, lesson.minutes, lesson.published) == (module.id, 20, True)

    response = client.post(f"/authoring/lessons/{lesson.id}", data=lesson_form(
        lesson, title_en="The core loop", body_md="## Loop\n\nPlay, **learn**, repeat.\n\n<script>alert(1)</script>"))
    assert response.status_code == 302

    html = client.get(f"/authoring/lessons/{lesson.id}").get_data(as_text=True)
    preview = html.split("Preview (as saved)", 1)[1]
    assert "<h2>Loop</h2>" in preview
    assert "Play, <strong>learn</strong>, repeat." in preview
    assert "<script>" not in html
    db.session.expire_all()
    assert db.session.get(Lesson, lesson.id).title_en == "The core loop"
    assert "Game Design Fundamentals" in client.get("/authoring/courses").get_data(as_text=True)


def test_students_see_the_edited_lesson(client, auth, make):
    instructor, student = make.user(Role.INSTRUCTOR), make.user(Role.STUDENT)
    course = make.course()
    offering = make.offering(course, instructor=instructor, students=[student])
    lesson = first_lesson(course)
    auth.login(instructor)
    client.post(f"/authoring/lessons/{lesson.id}", data=lesson_form(lesson, body_md="Updated *text*."))
    auth.logout()

    auth.login(student)
    html = client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").get_data(as_text=True)
    assert "Updated <em>text</em>." in html


def test_unpublishing_in_the_browser_hides_the_lesson(client, auth, make):
    instructor, student = make.user(Role.INSTRUCTOR), make.user(Role.STUDENT)
    course = make.course()
    offering = make.offering(course, instructor=instructor, students=[student])
    lesson = first_lesson(course)
    auth.login(instructor)
    data = lesson_form(lesson)
    del data["published"]  # an unticked checkbox is not sent
    assert client.post(f"/authoring/lessons/{lesson.id}", data=data).status_code == 302
    auth.logout()

    auth.login(student)
    assert client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").status_code == 404


def _authoring_requests(course: Course) -> list[tuple[str, str, dict]]:
    module, lesson = course.modules[0], first_lesson(course)
    return [
        ("GET", f"/authoring/courses/{course.id}", {}),
        ("POST", f"/authoring/courses/{course.id}", dict(COURSE_FORM, code=course.code, title_en="Hijacked")),
        ("POST", f"/authoring/courses/{course.id}/modules", {"module-title_en": "Hijacked module"}),
        ("GET", f"/authoring/modules/{module.id}", {}),
        ("POST", f"/authoring/modules/{module.id}", {"title_en": "Hijacked"}),
        ("GET", f"/authoring/courses/{course.id}/lessons/new", {}),
        ("POST", f"/authoring/courses/{course.id}/lessons/new",
         {"title_en": "Hijacked", "module_id": str(module.id), "minutes": "5", "published": "y"}),
        ("GET", f"/authoring/lessons/{lesson.id}", {}),
        ("POST", f"/authoring/lessons/{lesson.id}", lesson_form(lesson, title_en="Hijacked")),
    ]


def _assert_refused_everywhere(client, course: Course) -> None:
    before = (count(Module), count(Lesson))
    for method, url, data in _authoring_requests(course):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url)
    db.session.expire_all()
    assert "Hijacked" not in (course.title_en, course.modules[0].title_en, first_lesson(course).title_en)
    assert (count(Module), count(Lesson)) == before


@pytest.mark.parametrize("who", ["other_instructor", "assistant", "student"])
def test_people_who_may_not_edit_a_course_are_refused(client, auth, make, who):
    instructor = make.user(Role.INSTRUCTOR)
    assistant, student = make.user(Role.INSTRUCTOR), make.user(Role.STUDENT)
    other_instructor = make.user(Role.INSTRUCTOR)
    course = make.course()
    make.offering(course, instructor=instructor, assistant=assistant, students=[student])
    make.offering(make.course(), instructor=other_instructor)  # teaches something else

    auth.login({"other_instructor": other_instructor, "assistant": assistant, "student": student}[who])
    _assert_refused_everywhere(client, course)
    if who == "student":
        assert client.get("/authoring/courses").status_code == 403
        assert client.post("/authoring/courses/new", data=COURSE_FORM).status_code == 403
        assert count(Course) == 2
    else:
        assert course.code not in client.get("/authoring/courses").get_data(as_text=True)


def test_the_courses_instructor_may_edit_it(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course()
    make.offering(course, instructor=instructor)
    auth.login(instructor)

    for method, url, data in _authoring_requests(course):
        response = client.open(url, method=method, data=data)
        assert response.status_code in (200, 302), (method, url, response.status_code)
    db.session.expire_all()
    assert course.title_en == "Hijacked"
    assert count(Lesson) == 2 and count(Module) == 2


def test_duplicate_course_code_is_a_form_error(client, auth, make):
    make.course(code="GD101", title_en="Existing")
    auth.login(make.user(Role.INSTRUCTOR))

    response = client.post("/authoring/courses/new", data=COURSE_FORM)

    assert response.status_code == 200
    assert "A course with the code GD101 already exists." in response.get_data(as_text=True)
    assert count(Course) == 1


def test_changing_a_course_code_to_a_taken_one_is_a_form_error(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    make.course(code="GD101")
    course = make.course(code="GD102", created_by_id=instructor.id)
    auth.login(instructor)

    response = client.post(f"/authoring/courses/{course.id}", data=dict(COURSE_FORM, code="GD101"))

    assert response.status_code == 200
    assert "A course with the code GD101 already exists." in response.get_data(as_text=True)
    db.session.expire_all()
    assert course.code == "GD102"


@pytest.mark.parametrize("code", ["gd101", "G101", "GD-101", ""])
def test_malformed_course_code_is_a_form_error(client, auth, make, code):
    auth.login(make.user(Role.INSTRUCTOR))

    response = client.post("/authoring/courses/new", data=dict(COURSE_FORM, code=code))

    assert response.status_code == 200
    assert 'class="field has-error"' in response.get_data(as_text=True)
    assert count(Course) == 0


@pytest.mark.parametrize("credits", ["", "abc", "0", "-2", "31", "0.7", "2.25", "NaN", "Infinity", "1e100"])
def test_invalid_credits_are_a_form_error(client, auth, make, credits):
    auth.login(make.user(Role.INSTRUCTOR))

    response = client.post("/authoring/courses/new", data=dict(COURSE_FORM, credits=credits))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    credits_field = re.search(r'<div class="field( has-error)?">\s*<label for="credits"', html)
    assert credits_field and credits_field.group(1), "credits field is not marked as wrong"
    assert count(Course) == 0


@pytest.mark.parametrize("credits, stored", [("0.5", Decimal("0.5")), ("1.5", Decimal("1.5")), ("30", Decimal("30"))])
def test_valid_credits_are_accepted(client, auth, make, credits, stored):
    auth.login(make.user(Role.INSTRUCTOR))

    assert client.post("/authoring/courses/new", data=dict(COURSE_FORM, credits=credits)).status_code == 302
    assert db.session.scalar(select(Course.credits)) == stored


def test_lesson_cannot_be_moved_into_another_courses_module(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    mine = make.course(created_by_id=instructor.id)
    also_mine = make.course(created_by_id=instructor.id)
    other_module = also_mine.modules[0]
    lesson = first_lesson(mine)
    original_module = lesson.module_id
    auth.login(instructor)

    response = client.post(f"/authoring/lessons/{lesson.id}",
                           data=lesson_form(lesson, module_id=str(other_module.id), title_en="Moved"))

    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    lesson = db.session.get(Lesson, lesson.id)
    assert (lesson.module_id, lesson.course_id, lesson.title_en) == (original_module, mine.id, "First lesson")


def test_lesson_moves_between_modules_of_its_own_course(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course(created_by_id=instructor.id)
    auth.login(instructor)
    client.post(f"/authoring/courses/{course.id}/modules", data={"module-title_en": "Second module"})
    second = db.session.scalar(select(Module).where(Module.course_id == course.id, Module.key == "second-module"))
    lesson = first_lesson(course)

    response = client.post(f"/authoring/lessons/{lesson.id}", data=lesson_form(lesson, module_id=str(second.id)))

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Lesson, lesson.id).module_id == second.id


def test_new_lesson_needs_a_module_first(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    auth.login(instructor)
    client.post("/authoring/courses/new", data=COURSE_FORM)
    course = db.session.scalar(select(Course))

    response = client.get(f"/authoring/courses/{course.id}/lessons/new")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/authoring/courses/{course.id}")
    assert count(Lesson) == 0


def test_module_without_a_title_is_refused_with_a_message(client, auth, make):
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course(created_by_id=instructor.id)
    auth.login(instructor)

    response = client.post(f"/authoring/courses/{course.id}/modules", data={"module-title_en": ""},
                           follow_redirects=True)

    assert response.status_code == 200
    assert "The module needs an English title" in response.get_data(as_text=True)
    assert count(Module) == 1
