"""`make screenshots`: the main pages in each language as 1280x800 PNGs in docs/screenshots/.
Runs only with --screenshots (deselected otherwise); the PNGs are reduced to 256 colours to stay small."""
from __future__ import annotations

import pytest

from tests.browser.conftest import LANGUAGES, VIEWPORT, create_assignment, login
from tests.browser.stack import ROOT

pytestmark = pytest.mark.screenshots
OUT = ROOT / "docs" / "screenshots"
STUDENT, INSTRUCTOR, REGISTRAR = "aziz@demo.jdu.uz", "tanaka@demo.jdu.uz", "registrar@demo.jdu.uz"


@pytest.fixture(scope="module")
def pages(stack, browser, video_lesson):
    """(name, who, path) for each page; an assignment with a graded submission to show."""
    context = browser.new_context(base_url=stack.app_url, viewport=VIEWPORT)
    page = context.new_page()
    login(page, INSTRUCTOR)
    assignment = create_assignment(page, stack, 1, "Paper prototype of a core loop")
    student_id = stack.one("SELECT id FROM users WHERE email = ?", STUDENT)
    page.goto(f"/grading/assignments/{assignment}/students/{student_id}")
    page.get_by_label("Score").first.fill("86")
    page.get_by_label("Comment").fill("Clear loop; try a shorter round.")
    page.get_by_role("button", name="Save grade").click()
    page.wait_for_load_state()
    context.close()
    offering, lesson = video_lesson
    program = stack.one("SELECT id FROM programs WHERE code = 'jdu-game-dev'")
    return [
        ("login", None, "/login"),
        ("home", STUDENT, "/"),
        ("course", STUDENT, f"/offerings/{offering}"),
        ("lesson-video", STUDENT, f"/offerings/{offering}/lessons/{lesson}"),
        ("assignment", STUDENT, f"/assignments/{assignment}"),
        ("grading", INSTRUCTOR, f"/grading/assignments/{assignment}/students/{student_id}"),
        ("gradebook", INSTRUCTOR, f"/grading/offerings/{offering}/gradebook"),
        ("my-record", STUDENT, "/records/me"),
        ("registrar-cohort", REGISTRAR, f"/records/cohorts?program={program}&year=2026"),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshots(browser, stack, pages, language):
    from PIL import Image

    OUT.mkdir(parents=True, exist_ok=True)
    contexts = {}
    for name, who, path in pages:
        if who not in contexts:
            contexts[who] = browser.new_context(base_url=stack.app_url, viewport=VIEWPORT, locale=language, bypass_csp=True,
                                                extra_http_headers={"Accept-Language": language})
            if who:
                login(contexts[who].new_page(), who)
        page = contexts[who].new_page()
        page.goto(path)
        page.evaluate("document.fonts.ready")
        if name == "lesson-video":
            page.wait_for_function("document.getElementById('lesson-video').readyState >= 2")
        target = OUT / f"{name}-{language}.png"
        page.screenshot(path=str(target))
        page.close()
        with Image.open(target) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(target, optimize=True)
    for context in contexts.values():
        context.close()
