"""Journey: an instructor posts an announcement; a student sees the bell's count, reads it from the
notifications page, and the count is gone."""
from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible

INSTRUCTOR = "tanaka@demo.jdu.uz"  # GD101 = offering 1
STUDENT = "malika@demo.jdu.uz"
TITLE = "Playtest day moved to Friday"


def test_instructor_posts_and_student_reads_it_from_the_bell(new_page):
    teacher = new_page(INSTRUCTOR)
    teacher.goto("/offerings/1")
    teacher.get_by_role("link", name="All announcements, and post one").click()
    teacher.get_by_label("Title").fill(TITLE)
    teacher.get_by_label("Text (Markdown)").fill("Bring a **build** of your level.\n\n<script>alert(1)</script>")
    teacher.get_by_role("button", name="Post announcement").click()
    expect(teacher.locator("h1")).to_contain_text(TITLE)
    expect(teacher.locator(".announcement-body strong")).to_have_text("build")

    student = new_page(STUDENT)
    deadline = time.monotonic() + 30  # the worker adds the notifications within a second or two
    while not student.locator("#bell-count").count() and time.monotonic() < deadline:
        time.sleep(0.5)
        student.goto("/")
    expect(student.locator("#bell-count")).to_have_text("1")
    expect(student.get_by_role("region", name="New announcements")).to_contain_text(TITLE)
    student.get_by_role("link", name="Notifications, 1 unread").click()
    assert_accessible(student)
    student.get_by_role("button", name=f"New announcement in GD101: {TITLE}").click()
    expect(student.locator("h1")).to_contain_text(TITLE)
    expect(student.locator(".announcement-body")).to_contain_text("<script>alert(1)</script>")  # shown, not run
    assert_accessible(student)
    expect(student.locator("#bell-count")).to_have_count(0)
    student.goto("/offerings/1")
    expect(student.get_by_role("region", name="Announcements")).to_contain_text(TITLE)
    expect(student.locator(".announcements li.unread")).to_have_count(0)
