"""Browser fixtures: the real stack (tests/browser/stack.py), Debian's Chromium through Playwright
(never a downloaded browser), logins as the demo people, axe-core, and a few waits."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.browser.stack import Stack, run_clip

CHROMIUM = os.environ.get("LMS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "bridge-demo-2026"
VIEWPORT = {"width": 1280, "height": 800}
LANGUAGES = ("en", "ja", "uz", "ru")
READY = "Ready: students can watch it"


def pytest_addoption(parser):
    parser.addoption("--screenshots", action="store_true", help="save docs/screenshots/*.png (make screenshots)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    wanted, skipped = [], []
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
        shots = item.get_closest_marker("screenshots") is not None
        (skipped if shots and not config.getoption("--screenshots", default=False) else wanted).append(item)
    if skipped:  # pictures are made on purpose, not in every test run
        config.hook.pytest_deselected(items=skipped)
        items[:] = wanted


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("browser-stack"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def s3_stack(tmp_path_factory):
    """The same stack with LMS_STORAGE=s3 on a moto server: started only by the tests that use it."""
    if importlib.util.find_spec("moto") is None:  # a failure, not a skip, like a missing browser
        pytest.fail("moto is not installed (pip install -e '.[test]' installs it).")
    stack = Stack(tmp_path_factory.mktemp("browser-s3-stack"), s3=True)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def browser():
    # A missing browser is a failure, not a skip: these tests are part of `make test`.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, stack):
    """`new_page(email, locale="en")`: a fresh browser context (no cookies), logged in unless email is None."""
    contexts = []

    def make(email: str | None = None, locale: str = "en"):
        context = browser.new_context(base_url=stack.app_url, locale=locale, viewport=VIEWPORT,
                                      bypass_csp=True, extra_http_headers={"Accept-Language": locale})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if email:
            login(page, email)
        return page

    yield make
    for context in contexts:
        context.close()


def login(page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_url(lambda url: not url.endswith("/login"))


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now."""
    assert AXE.exists(), f"{AXE} missing: run `npm ci --prefix tests/browser` (make test does)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result if v["impact"] in impacts]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}:\n" + json.dumps(violations, indent=1, ensure_ascii=False)


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    assert shutil.which("ffmpeg"), "ffmpeg is needed (make test installs it)"
    return run_clip(tmp_path_factory.mktemp("clip") / "lesson-clip.mp4")


def visible_focus(page) -> bool:
    """Whether the focused element draws a focus indicator (an outline or a box shadow)."""
    return page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }""")


def create_assignment(page, stack, offering_id: int, title: str, *, game: bool = False) -> int:
    """Fill the instructor's new-assignment form (files, unlimited attempts, due in a week)."""
    from datetime import datetime, timedelta

    page.goto(f"/offerings/{offering_id}/assignments/new")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Instructions (Markdown)").fill("Upload your **notes** and a playable build.")
    page.get_by_label("Attempts allowed (0: unlimited)").fill("0")
    if game:
        page.get_by_label("Playable game build (WebGL/HTML5 zip)").check()
    page.get_by_label("Allowed file extensions (comma-separated, empty: any)").fill("pdf, png, txt")
    page.get_by_label("Due", exact=True).fill((datetime.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save assignment").click()
    page.wait_for_url("**/assignments/*")
    return stack.one("SELECT id FROM assignments WHERE title = ?", title)


def lesson_id(stack, key: str) -> int:
    return stack.one("SELECT id FROM lessons WHERE key = ?", key)


def upload_video(page, lesson: int, clip) -> list[str]:
    """Upload on the lesson editor as an instructor would; return the status lines seen until ready."""
    page.goto(f"/authoring/lessons/{lesson}")
    page.locator("#video-file").set_input_files(str(clip))
    page.get_by_role("button", name="Upload", exact=True).click()
    return wait_ready(page)


def wait_ready(page, seconds: float = 90) -> list[str]:
    """The status lines the editor shows (following the job by itself) until the video is ready."""
    seen, deadline = [], time.monotonic() + seconds
    status = page.locator(".video-status .status-text").first
    while time.monotonic() < deadline:  # the page follows the job by itself; we only read it
        try:
            text = " ".join(status.inner_text(timeout=2000).split())
        except Exception:  # the page is between its own reloads
            continue
        if not seen or seen[-1] != text:
            seen.append(text)
        if READY in text or text.startswith("Failed"):
            break
        page.wait_for_timeout(100)
    assert seen and READY in seen[-1], f"status lines: {seen}"
    return seen


@pytest.fixture(scope="session")
def video_lesson(stack, browser, clip):
    """GD101's first lesson with a ready 10-second video, uploaded through the editor."""
    context = browser.new_context(base_url=stack.app_url, viewport=VIEWPORT)
    page = context.new_page()
    login(page, "tanaka@demo.jdu.uz")  # teaches GD101 = offering 1
    lesson = lesson_id(stack, "what-is-a-game")
    upload_video(page, lesson, clip)
    context.close()
    return 1, lesson
