"""axe-core on the main pages (no serious or critical violation), and the keyboard on the player.
The assignment, submission, grading, gradebook and registrar pages are checked inside their journeys
(test_assignments.py, test_records.py), where they have real data."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, axe_violations, visible_focus

STUDENT = "aziz@demo.jdu.uz"
REGISTRAR = "registrar@demo.jdu.uz"


def test_axe_finds_what_it_should(new_page):
    page = new_page()
    page.set_content("<html lang='en'><body><main><input type='text'><button></button></main></body></html>")
    assert {"label", "button-name"} <= {v["id"] for v in axe_violations(page)}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_login_page(new_page, language):
    page = new_page(locale=language)
    page.goto("/login")
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/", "/offerings/1", "/offerings/1/assignments", "/records/me", "/account"])
def test_student_pages(new_page, path):
    page = new_page(STUDENT)
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/registrar/students", "/registrar/offerings",
                                  "/records/cohorts?program=1&year=2026"])
def test_registrar_pages(new_page, path):
    page = new_page(REGISTRAR)
    page.goto(path)
    assert_accessible(page)


def test_lesson_with_player_by_keyboard(new_page, video_lesson):
    offering, lesson = video_lesson
    page = new_page(STUDENT)
    page.goto(f"/offerings/{offering}/lessons/{lesson}")
    page.wait_for_function("document.querySelectorAll('#video-quality option').length > 1")  # hls.js ready
    assert_accessible(page)
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        here = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        if here in ("lesson-video", "video-speed", "video-quality"):
            assert visible_focus(page), f"#{here} shows no focus indicator"
            if not reached or reached[-1] != here:  # Tab walks the video's own buttons first
                reached.append(here)
        if here == "video-quality":
            break
    assert reached == ["lesson-video", "video-speed", "video-quality"], reached
    page.keyboard.press("Shift+Tab")  # back on the speed menu: the arrow keys change it
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.getElementById('lesson-video').playbackRate") == 1.25
