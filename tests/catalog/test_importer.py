"""Courses as files: `flask lms courses import [PATH]` and the importer behind it."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.catalog.models import Course, Lesson, LessonProgress, Module, Offering, PartnerUniversity
from lms.extensions import db

REAL_COURSES = Path(__file__).resolve().parents[2] / "courses"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def course_data(code: str = "GD101", **changes) -> dict:
    data = {
        "code": code,
        "title": {"en": "Game Design", "ja": "ゲームデザイン"},
        "summary": {"en": "Make games.", "ja": "ゲームを作る。"},
        "credits": 2,
        "hours": 90,
        "modules": [{"key": "basics", "title": {"en": "Basics", "ja": "基本"}, "lessons": ["intro", "loops"]}],
    }
    data.update(changes)
    return data


def lesson_md(title: str, body: str = "Some text.\n", minutes: int = 10, title_ja: str | None = None) -> str:
    front = {"title": {"en": title, **({"ja": title_ja} if title_ja else {})}, "minutes": minutes}
    return "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body


def write_course(root: Path, slug: str, data: dict | str, lessons: dict[str, str] | None = None,
                 assets: dict[str, bytes] | None = None) -> Path:
    """Write courses/<slug>/ with course.yaml, one lesson file per listed key (unless given) and assets."""
    folder = root / slug
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (folder / "course.yaml").write_text(text, "utf-8")
    if lessons is None:
        keys = [k for m in data["modules"] for k in m["lessons"]] if isinstance(data, dict) else []
        lessons = {key: lesson_md(key.replace("-", " ").title()) for key in keys}
    for key, body in lessons.items():
        (folder / "lessons" / f"{key}.md").write_text(body, "utf-8")
    if assets:
        (folder / "assets").mkdir(exist_ok=True)
        for name, content in assets.items():
            (folder / "assets" / name).write_bytes(content)
    return folder


def run_import(runner, path: Path | None = None):
    db.session.commit()  # end the test's own transaction before the command writes
    args = ["lms", "courses", "import"] + ([str(path)] if path is not None else [])
    result = runner.invoke(args=args)
    db.session.expire_all()
    return result


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def add_partners(*codes: str) -> None:
    for code in codes:
        db.session.add(PartnerUniversity(code=code, name_en=f"Partner {code}"))
    db.session.commit()


def test_import_real_courses_folder(runner, app):
    add_partners("sakura-digital", "kansai-game-tech")

    result = run_import(runner, REAL_COURSES)

    assert result.exit_code == 0, result.output
    assert "imported GD101 Game Design Fundamentals (3 modules, 9 lessons)" in result.output
    assert "imported ART120 2D Pixel Art for Games (3 modules, 9 lessons)" in result.output
    assert (count(Course), count(Module), count(Lesson)) == (2, 6, 18)
    art = db.session.scalar(select(Course).where(Course.code == "ART120"))
    assert art.slug == "pixel-art-2d"
    assert art.title_ja == "ゲームのための2Dピクセルアート"
    assert art.partner.code == "sakura-digital"
    assert [m.key for m in art.modules] == ["foundations", "techniques", "sprites-and-animation"]
    assert [x.key for x in art.modules[1].lessons] == ["anti-aliasing", "dithering", "tiles-and-tilesets"]
    dithering = art.modules[1].lessons[1]
    assert (dithering.title_en, dithering.title_ja, dithering.minutes) == ("Dithering", "ディザリング", 30)
    source = (REAL_COURSES / "pixel-art-2d" / "lessons" / "dithering.md").read_text("utf-8")
    assert dithering.body_md == source.split("---\n", 2)[2]
    copied = Path(app.config["MEDIA_ROOT"]) / "course-assets" / "pixel-art-2d" / "dither-patterns.png"
    assert copied.read_bytes() == (REAL_COURSES / "pixel-art-2d" / "assets" / "dither-patterns.png").read_bytes()


def test_import_without_path_uses_the_courses_dir(runner, app):
    write_course(Path(app.config["COURSES_DIR"]), "gd", course_data())

    result = run_import(runner)

    assert result.exit_code == 0, result.output
    assert "imported GD101 Game Design (1 modules, 2 lessons)" in result.output
    assert count(Lesson) == 2


def test_reimport_updates_in_place(runner, tmp_path):
    root = tmp_path / "src"
    write_course(root, "gd", course_data())
    assert run_import(runner, root).exit_code == 0
    lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.key == "intro"))
    counts = (count(Course), count(Module), count(Lesson))

    assert run_import(runner, root).exit_code == 0
    assert (count(Course), count(Module), count(Lesson)) == counts

    write_course(root, "gd", course_data(title={"en": "Game Design II"}),
                 lessons={"intro": lesson_md("Welcome", "New **text**.\n", minutes=25)})
    result = run_import(runner, root)

    assert result.exit_code == 0, result.output
    assert (count(Course), count(Module), count(Lesson)) == counts
    intro = db.session.get(Lesson, lesson_id)
    assert (intro.title_en, intro.body_md, intro.minutes) == ("Welcome", "New **text**.\n", 25)
    course = db.session.scalar(select(Course))
    assert (course.title_en, course.title_ja) == ("Game Design II", None)


def test_lesson_dropped_from_course_yaml_is_hidden_but_progress_survives(runner, tmp_path, make, client, auth):
    root = tmp_path / "src"
    write_course(root, "gd", course_data())
    assert run_import(runner, root).exit_code == 0
    student = make.user(Role.STUDENT)
    offering = make.offering(db.session.scalar(select(Course)), students=[student])
    loops = db.session.scalar(select(Lesson).where(Lesson.key == "loops"))
    auth.login(student)
    assert client.post(f"/offerings/{offering.id}/lessons/{loops.id}/complete").status_code == 302

    write_course(root, "gd", course_data(modules=[
        {"key": "basics", "title": {"en": "Basics"}, "lessons": ["intro"]}]))
    result = run_import(runner, root)

    assert result.exit_code == 0, result.output
    assert count(Lesson) == 2
    assert db.session.get(Lesson, loops.id).published is False
    assert count(LessonProgress) == 1
    assert client.get(f"/offerings/{offering.id}/lessons/{loops.id}").status_code == 404
    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert "Loops" not in page and "Intro" in page
    assert "0 of 1 lessons completed" in page

    # Listed again: visible again, with the student's completion still there.
    write_course(root, "gd", course_data())
    assert run_import(runner, root).exit_code == 0
    page = client.get(f"/offerings/{offering.id}").get_data(as_text=True)
    assert "1 of 2 lessons completed" in page


def _malformed_yaml(root):
    write_course(root, "bad", "code: GD102\ntitle: [unclosed\n", lessons={})


def _missing_hours(root):
    data = course_data("GD102")
    del data["hours"]
    write_course(root, "bad", data)


def _bad_code(root):
    write_course(root, "bad", course_data("gd-102"))


def _bad_credits(root):
    write_course(root, "bad", course_data("GD102", credits=0.25))


def _blank_title(root):
    write_course(root, "bad", course_data("GD102", title={"en": "   ", "ja": "題"}))


def _long_title(root):
    write_course(root, "bad", course_data("GD102", title={"en": "x" * 201}))


def _module_without_title(root):
    write_course(root, "bad", course_data("GD102", modules=[
        {"key": "basics", "title": {"en": "Basics"}, "lessons": ["intro"]},
        {"key": "more", "title": {"ja": "応用"}, "lessons": ["loops"]}]))


def _missing_lesson_file(root):
    write_course(root, "bad", course_data("GD102"), lessons={"intro": lesson_md("Intro")})


def _lesson_without_minutes(root):
    write_course(root, "bad", course_data("GD102"), lessons={
        "intro": "---\ntitle:\n  en: Intro\n---\nText\n", "loops": lesson_md("Loops")})


def _long_lesson_title(root):
    write_course(root, "bad", course_data("GD102"), lessons={
        "intro": lesson_md("Intro", title_ja="長" * 201), "loops": lesson_md("Loops")})


def _missing_asset(root):
    write_course(root, "bad", course_data("GD102"), assets={"ramp.png": PNG}, lessons={
        "intro": lesson_md("Intro", "![ramp](assets/ramp.png)\n\n![tile](assets/tile.png)\n"),
        "loops": lesson_md("Loops")})


def _non_image_asset(root):
    write_course(root, "bad", course_data("GD102"), assets={"notes.txt": b"hello"})


@pytest.mark.parametrize("make_bad, where, message", [
    (_malformed_yaml, "course.yaml: YAML:", ""),
    (_missing_hours, "course.yaml: hours:", "whole number"),
    (_bad_code, "course.yaml: code:", "'gd-102' is not a course code"),
    (_bad_credits, "course.yaml: credits:", "steps of 0.5"),
    (_blank_title, "course.yaml: title.en:", "is required"),
    (_long_title, "course.yaml: title.en:", "longer than 200 characters"),
    (_module_without_title, "course.yaml: modules[2].title.en:", "is required"),
    (_missing_lesson_file, "lessons/loops.md: file:", "is missing"),
    (_lesson_without_minutes, "lessons/intro.md: minutes:", "whole number"),
    (_long_lesson_title, "lessons/intro.md: title.ja:", "longer than 200 characters"),
    (_missing_asset, "lessons/intro.md: body:", "refers to assets/tile.png"),
    (_non_image_asset, "assets/notes.txt: asset:", "only PNG"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_bad_course_files_are_reported_and_nothing_is_imported(runner, tmp_path, app, make_bad, where, message):
    root = tmp_path / "src"
    write_course(root, "aaa-good", course_data("GD101"), assets={"ok.png": PNG})
    make_bad(root)

    result = run_import(runner, root)

    assert result.exit_code != 0
    error_lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert any(line.startswith(f"error: src/bad/{where}") and message in line for line in error_lines), \
        result.output
    assert not any("aaa-good" in line for line in error_lines)
    assert "nothing was imported" in result.output
    assert "imported GD101" not in result.output
    assert (count(Course), count(Module), count(Lesson)) == (0, 0, 0)


def test_too_long_title_is_not_also_reported_as_missing(runner, tmp_path):
    root = tmp_path / "src"
    _long_title(root)

    result = run_import(runner, root)

    assert result.exit_code != 0
    assert "title.en: is longer than 200 characters" in result.output
    assert "is required" not in result.output


def test_every_problem_is_reported_in_one_run(runner, tmp_path):
    root = tmp_path / "src"
    write_course(root, "bad", course_data("gd-1", credits="lots"), lessons={"intro": lesson_md("Intro")})

    result = run_import(runner, root)

    assert result.exit_code != 0
    for expected in ("src/bad/course.yaml: code:", "src/bad/course.yaml: credits:",
                     "src/bad/lessons/loops.md: file:"):
        assert expected in result.output
    assert "3 problem(s)" in result.output


def test_unknown_partner_is_an_error_and_rolls_back_other_courses(runner, tmp_path):
    root = tmp_path / "src"
    add_partners("kansai-game-tech")
    write_course(root, "aaa-good", course_data("GD101", partner="kansai-game-tech"))
    write_course(root, "bbb-bad", course_data("GD102", partner="no-such-uni"))

    result = run_import(runner, root)

    assert result.exit_code != 0
    assert "bbb-bad/course.yaml: partner: no partner university with code 'no-such-uni'" in result.output
    assert (count(Course), count(Module), count(Lesson)) == (0, 0, 0)


def test_code_of_a_browser_course_is_not_taken_over(runner, tmp_path, make):
    make.course(code="GD101", title_en="Made in the browser")
    root = tmp_path / "src"
    write_course(root, "gd", course_data("GD101"))

    result = run_import(runner, root)

    assert result.exit_code != 0
    assert "gd/course.yaml: code: GD101 already belongs to a course made in the browser" in result.output
    course = db.session.scalar(select(Course).where(Course.code == "GD101"))
    assert (course.title_en, course.slug) == ("Made in the browser", None)
    assert count(Lesson) == 1


def test_import_of_a_missing_folder_fails(runner, tmp_path):
    result = run_import(runner, tmp_path / "nowhere")

    assert result.exit_code != 0
    assert "nowhere: not a folder" in result.output


def test_import_of_a_single_course_folder(runner, tmp_path):
    folder = write_course(tmp_path / "src", "gd", course_data())

    result = run_import(runner, folder)

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Course.slug)) == "gd"
    assert count(Offering) == 0


def test_changing_the_code_in_course_yaml_renumbers_the_course(runner, tmp_path):
    root = tmp_path / "src"
    write_course(root, "gd", course_data("GD101"))
    assert run_import(runner, root).exit_code == 0
    course_id = db.session.scalar(select(Course.id))

    write_course(root, "gd", course_data("GD150"))
    result = run_import(runner, root)

    assert result.exit_code == 0, result.output
    assert "imported GD150" in result.output
    assert db.session.scalars(select(Course.id)).all() == [course_id]
    assert db.session.get(Course, course_id).code == "GD150"
    assert count(Lesson) == 2


def test_reimport_restores_a_code_changed_in_the_browser(runner, tmp_path, make, client, auth):
    root = tmp_path / "src"
    write_course(root, "gd", course_data("GD101"))
    assert run_import(runner, root).exit_code == 0
    course = db.session.scalar(select(Course))
    instructor = make.user(Role.INSTRUCTOR)
    make.offering(course, instructor=instructor)
    auth.login(instructor)
    form = {"code": "GD199", "title_en": "Renamed", "credits": "2", "hours": "90"}
    assert client.post(f"/authoring/courses/{course.id}", data=form).status_code == 302

    result = run_import(runner, root)

    assert result.exit_code == 0, result.output
    course = db.session.get(Course, course.id)
    assert (course.code, course.title_en) == ("GD101", "Game Design")
    assert count(Course) == 1
