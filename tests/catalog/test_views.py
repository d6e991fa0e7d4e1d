"""What students and staff read: home, course page, lesson page, progress, assets."""
from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.catalog.importer import apply_course, copy_assets, read_courses
from lms.catalog.models import Lesson, LessonProgress, PartnerUniversity
from lms.extensions import db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser would see them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def add_lesson(course, title: str, body: str = "Text.", *, published: bool = True, key: str | None = None) -> Lesson:
    module = course.modules[0]
    lesson = Lesson(course_id=course.id, module_id=module.id, key=key or title.lower().replace(" ", "-"),
                    title_en=title, body_md=body, minutes=5, position=len(module.lessons), published=published)
    db.session.add(lesson)
    db.session.commit()
    return lesson


def first_lesson(course) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.key == "first"))


def import_course_with_asset(app, tmp_path):
    folder = tmp_path / "src" / "pixel"
    (folder / "lessons").mkdir(parents=True)
    (folder / "assets").mkdir()
    (folder / "course.yaml").write_text(
        "code: ART120\ntitle:\n  en: Pixel Art\ncredits: 2\nhours: 90\nmodules:\n"
        "  - key: basics\n    title:\n      en: Basics\n    lessons: [ramps]\n", "utf-8")
    (folder / "lessons" / "ramps.md").write_text(
        "---\ntitle:\n  en: Ramps\nminutes: 20\n---\n# Ramps\n\n![A hue-shifted ramp](assets/ramp.png)\n", "utf-8")
    (folder / "assets" / "ramp.png").write_bytes(PNG)
    spec = read_courses(folder)[0]
    course = apply_course(spec)
    copy_assets(spec)
    db.session.commit()
    return course


def test_enrolled_student_sees_course_on_home_and_opens_it(client, auth, make):
    student = make.user(Role.STUDENT)
    course = make.course(title_en="Game Design Fundamentals", title_ja="ゲームデザインの基礎")
    offering = make.offering(course, students=[student])
    make.offering(make.course(title_en="Someone else's course"))
    auth.login(student)

    home = client.get("/").get_data(as_text=True)
    assert "Game Design Fundamentals" in home
    assert f'href="/offerings/{offering.id}"' in home
    assert "Someone else" not in home

    page = client.get(f"/offerings/{offering.id}")
    assert page.status_code == 200
    lesson = first_lesson(course)
    assert f'href="/offerings/{offering.id}/lessons/{lesson.id}"' in page.get_data(as_text=True)

    response = client.get(f"/offerings/{offering.id}/lessons/{lesson.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Hello</h1>" in html and "<strong>first</strong>" in html


def test_registrar_and_instructor_see_their_offerings_on_home(client, auth, make):
    registrar, instructor = make.user(Role.REGISTRAR), make.user(Role.INSTRUCTOR)
    make.offering(make.course(title_en="Taught course"), instructor=instructor)
    make.offering(make.course(title_en="Untaught course"))

    auth.login(registrar)
    home = client.get("/").get_data(as_text=True)
    assert "Taught course" in home and "Untaught course" in home
    auth.logout()
    auth.login(instructor)
    home = client.get("/").get_data(as_text=True)
    assert "Taught course" in home and "Untaught course" not in home


def test_japanese_student_sees_japanese_titles(client, auth, make):
    student = make.user(Role.STUDENT)
    student.locale = "ja"
    course = make.course(title_en="Game Design Fundamentals", title_ja="ゲームデザインの基礎")
    make.offering(course, students=[student])
    auth.login(student)

    assert "ゲームデザインの基礎" in client.get("/").get_data(as_text=True)


def test_opening_and_completing_lessons_shows_progress(client, auth, make):
    student = make.user(Role.STUDENT)
    course = make.course()
    second = add_lesson(course, "Second lesson")
    offering = make.offering(course, students=[student])
    first = first_lesson(course)
    auth.login(student)

    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert "0 of 2 lessons completed" in page
    assert '<span class="badge">opened</span>' not in page

    client.get(f"/offerings/{offering.id}/lessons/{first.id}")
    client.get(f"/offerings/{offering.id}/lessons/{first.id}")
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert page.count('<span class="badge">opened</span>') == 1
    assert "0 of 2 lessons completed" in page

    response = client.post(f"/offerings/{offering.id}/lessons/{second.id}/complete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/offerings/{offering.id}/lessons/{second.id}")
    lesson_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You completed this lesson" in lesson_page and "Mark as completed" not in lesson_page

    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert "1 of 2 lessons completed" in page
    assert '<span class="badge ok">completed</span>' in page
    assert '<span class="badge">opened</span>' in page
    assert "1 of 2 lessons completed" in client.get("/").get_data(as_text=True)


def test_student_not_enrolled_is_refused(client, auth, make):
    enrolled, outsider = make.user(Role.STUDENT), make.user(Role.STUDENT)
    course = make.course(title_en="Private course")
    offering = make.offering(course, students=[enrolled])
    lesson = first_lesson(course)
    auth.login(outsider)

    assert "Private course" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/offerings/{offering.id}").status_code == 403
    assert client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").status_code == 403
    assert client.post(f"/offerings/{offering.id}/lessons/{lesson.id}/complete").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_anonymous_visitor_is_sent_to_login(client, make):
    offering = make.offering()

    response = client.get(f"/offerings/{offering.id}")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_lesson_of_another_course_through_my_offering_is_404(client, auth, make):
    student, instructor = make.user(Role.STUDENT), make.user(Role.INSTRUCTOR)
    mine = make.offering(make.course(), instructor=instructor, students=[student])
    other_course = make.course(title_en="Other course")
    make.offering(other_course, students=[student])
    other_lesson = first_lesson(other_course)

    for user in (student, instructor):
        auth.login(user)
        assert client.get(f"/offerings/{mine.id}/lessons/{other_lesson.id}").status_code == 404
        assert client.post(f"/offerings/{mine.id}/lessons/{other_lesson.id}/complete").status_code == 404
        assert client.get(f"/offerings/{mine.id}/lessons/999999").status_code == 404
        auth.logout()
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_unpublished_lesson_is_hidden_from_students_but_not_from_the_instructor(client, auth, make):
    student, instructor = make.user(Role.STUDENT), make.user(Role.INSTRUCTOR)
    course = make.course()
    draft = add_lesson(course, "Draft lesson", "Work in progress.", published=False)
    offering = make.offering(course, instructor=instructor, students=[student])

    auth.login(student)
    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert "Draft lesson" not in page
    assert "0 of 1 lessons completed" in page
    assert client.get(f"/offerings/{offering.id}/lessons/{draft.id}").status_code == 404
    assert client.post(f"/offerings/{offering.id}/lessons/{draft.id}/complete").status_code == 404
    auth.logout()

    auth.login(instructor)
    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert "Draft lesson" in page and "hidden from students" in page
    response = client.get(f"/offerings/{offering.id}/lessons/{draft.id}")
    assert response.status_code == 200
    assert "Work in progress." in response.get_data(as_text=True)


def test_lesson_markdown_is_sanitized(client, auth, make):
    student = make.user(Role.STUDENT)
    course = make.course()
    lesson = add_lesson(course, "Tricky", "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
                        "[y](JAVASCRIPT:alert(2))\n\n<img src=x onerror=alert(1)>\n\n"
                        "![pic](https://example.org/a.png \"t\")\n\n[ok](https://example.org/)\n\n**still bold**\n")
    offering = make.offering(course, students=[student])
    auth.login(student)

    html = client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").get_data(as_text=True)

    tags = Tags(html).tags
    assert "script" not in [tag for tag, _ in tags]
    for tag, attrs in tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (tag, attrs)
    assert ("img", {"src": "https://example.org/a.png", "alt": "pic", "title": "t"}) in tags
    assert any(t == "a" and a.get("href") == "https://example.org/" and "noopener" in a.get("rel", "")
               for t, a in tags)
    assert "<strong>still bold</strong>" in html


def test_course_title_with_markup_is_escaped(client, auth, make):
    student = make.user(Role.STUDENT)
    course = make.course(title_en="<script>alert('t')</script> Design")
    offering = make.offering(course, students=[student])
    auth.login(student)

    pages = [client.get("/"), client.get(f"/offerings/{offering.id}"),
             client.get(f"/offerings/{offering.id}/lessons/{first_lesson(course).id}")]

    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "&lt;script&gt;" in html
        assert "<script>" not in html


def test_course_assets_are_for_people_on_the_course(app, client, auth, make, tmp_path):
    course = import_course_with_asset(app, tmp_path)
    student, outsider = make.user(Role.STUDENT), make.user(Role.STUDENT)
    offering = make.offering(course, students=[student])
    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))
    url = f"/courses/{course.id}/assets/ramp.png"

    auth.login(student)
    html = client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").get_data(as_text=True)
    assert ("img", {"src": url, "alt": "A hue-shifted ramp"}) in Tags(html).tags
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.data == PNG
        assert response.mimetype == "image/png"
        assert "private" in response.headers["Cache-Control"]
    assert client.get(f"/courses/{course.id}/assets/course.yaml").status_code == 404
    assert client.get(f"/courses/{course.id}/assets/missing.png").status_code == 404
    auth.logout()

    auth.login(outsider)
    assert client.get(url).status_code == 403
    auth.logout()
    assert client.get(url).status_code == 302  # anonymous: to the login page


def test_home_page_query_count_does_not_grow_with_offerings(client, auth, make, count_queries):
    student = make.user(Role.STUDENT)
    partner = PartnerUniversity(code="kansai-game-tech", name_en="Kansai Game Tech")
    db.session.add(partner)
    db.session.commit()

    def enrol_in_new_offering():
        course = make.course(partner_id=partner.id)
        make.offering(course, students=[student])

    enrol_in_new_offering()
    auth.login(student)
    client.get("/")
    # Requests share the test's app context; start both measurements from the same (expired) state.
    db.session.expire_all()
    with count_queries() as one:
        assert client.get("/").status_code == 200
    for _ in range(4):
        enrol_in_new_offering()
    db.session.expire_all()
    with count_queries() as five:
        html = client.get("/").get_data(as_text=True)

    assert html.count("Kansai Game Tech") == 5
    assert html.count("0 of 1 lessons completed") == 5
    assert five.count == one.count, "\n\n".join(["ONE"] + one.statements + ["FIVE"] + five.statements)


def test_the_lesson_page_asks_for_the_students_enrollment_once(app, client, auth, make, count_queries):
    student = make.user(Role.STUDENT)
    offering = make.offering(students=[student])
    lesson = offering.course.modules[0].lessons[0]
    auth.login(student)
    client.get(f"/offerings/{offering.id}/lessons/{lesson.id}")  # first visit records the opening
    with count_queries() as counter:
        assert client.get(f"/offerings/{offering.id}/lessons/{lesson.id}").status_code == 200
    enrollment_reads = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")
                        and ("FROM enrollments" in s or "JOIN enrollments" in s) and "enrollments.student_id =" in s]
    assert len(enrollment_reads) == 1, enrollment_reads
    # A revisit writes nothing, so it commits nothing (a commit would reload what the page shows).
    assert not [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]


def test_an_edited_lesson_shows_its_new_text_at_once(app, client, auth, make):
    student = make.user(Role.STUDENT)
    offering = make.offering(students=[student])
    lesson = offering.course.modules[0].lessons[0]
    lesson.body_md = "# First draft"
    db.session.commit()
    auth.login(student)
    url = f"/offerings/{offering.id}/lessons/{lesson.id}"
    assert "First draft" in client.get(url).get_data(as_text=True)
    lesson.body_md = "# Second draft"
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Second draft" in page and "First draft" not in page
