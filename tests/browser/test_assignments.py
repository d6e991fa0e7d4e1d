"""Journeys 3 and 4: a student submits files and a playable HTML build, which runs in its iframe from
the sandbox origin and cannot read the app's cookies nor use the app's API as the student; an
instructor grades with a rubric and the student sees the grade only after release."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORT, assert_accessible, create_assignment, login, visible_focus

INSTRUCTOR = "tanaka@demo.jdu.uz"  # GD101 = offering 1
STUDENT = "aziz@demo.jdu.uz"

# The "game": it tries what a hostile build would, and tells the page (DOM and postMessage) what it got.
GAME = """<!doctype html><html><head><meta charset="utf-8"><title>Probe</title></head><body>
<h1>Probe game</h1><pre id="report">running</pre>
<script>
(async function () {
  const app = "%(app)s";
  const out = {origin: String(window.origin)};
  try { out.cookie = document.cookie; } catch (e) { out.cookie = "blocked: " + e.name; }
  try { out.storage = String(window.localStorage.length); } catch (e) { out.storage = "blocked: " + e.name; }
  try { out.parent = window.parent.document.title; } catch (e) { out.parent = "blocked: " + e.name; }
  try {
    const r = await fetch(app + "/records/me", {credentials: "include"});
    out.api = "read " + r.status + " " + (await r.text()).slice(0, 200);
  } catch (e) { out.api = "blocked: " + e.name; }
  try {
    await fetch(app + "/language", {method: "POST", mode: "no-cors", credentials: "include",
                body: new URLSearchParams({locale: "ru", next: "/"})});
    out.post = "sent";
  } catch (e) { out.post = "blocked: " + e.name; }
  document.getElementById("report").textContent = JSON.stringify(out);
  window.parent.postMessage({probe: out}, "*");
})();
</script></body></html>"""


@pytest.fixture(scope="module")
def assignment(stack, browser):
    """An assignment in GD101 accepting files and game builds, made on the instructor's form."""
    context = browser.new_context(base_url=stack.app_url, viewport=VIEWPORT)
    page = context.new_page()
    login(page, INSTRUCTOR)
    assignment_id = create_assignment(page, stack, 1, "Prototype a core loop", game=True)
    context.close()
    return assignment_id


def game_zip(path, app_url: str):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("probe/index.html", GAME % {"app": app_url})
        archive.writestr("probe/Build/readme.txt", "assets would be here")
    path.write_bytes(buffer.getvalue())
    return path


def test_student_submits_files_and_a_build_that_runs_sandboxed(new_page, stack, assignment, tmp_path):
    page = new_page(STUDENT)
    page.goto(f"/assignments/{assignment}")
    assert_accessible(page)
    notes = tmp_path / "notes.txt"
    notes.write_text("Core loop: collect, build, defend.\n")
    page.get_by_label("Files").set_input_files(str(notes))
    page.get_by_role("button", name="Submit files").click()
    page.wait_for_url("**/submissions/*")
    expect(page.get_by_text("notes.txt").first).to_be_visible()
    assert_accessible(page)

    page.goto(f"/assignments/{assignment}")
    page.get_by_label("Game build (.zip with index.html at its root)").set_input_files(
        str(game_zip(tmp_path / "probe.zip", stack.app_url)))
    page.get_by_role("button", name="Submit build").click()
    page.wait_for_url("**/submissions/*")
    receipt = page.url
    # Listen on the receipt before the frame can load (the probe reports once, as soon as it runs).
    page.add_init_script("addEventListener('message', e => { if (e.data && e.data.probe) window.__probe = e.data.probe; })")
    page.goto(receipt)
    frame_el = page.locator("iframe.game-frame")
    for _ in range(60):  # the page asks to be reloaded once the build is checked
        if frame_el.count():
            break
        page.wait_for_timeout(500)
        page.goto(receipt)
    src = frame_el.get_attribute("src")
    assert src.startswith(stack.sandbox_url + "/"), src
    assert frame_el.get_attribute("sandbox") == "allow-scripts allow-pointer-lock"

    requests = []
    page.on("request", lambda r: requests.append(r) if r.url.startswith(stack.app_url) and r.frame != page.main_frame else None)
    frame_el.scroll_into_view_if_needed()
    page.wait_for_function("window.__probe !== undefined", timeout=20_000)
    probe = page.evaluate("window.__probe")
    frame = page.frame(url=lambda u: u.startswith(stack.sandbox_url))
    assert frame.locator("#report").inner_text() == json.dumps(probe, separators=(",", ":"))
    assert probe["origin"] == "null"  # an opaque origin, not the app's
    assert probe["cookie"].startswith("blocked") or probe["cookie"] == "", probe
    assert "lms_session" not in probe["cookie"]
    assert probe["storage"].startswith("blocked") and probe["parent"].startswith("blocked"), probe
    assert probe["api"].startswith("blocked"), probe  # no CORS: the app's answer is unreadable
    for request in requests:  # and the browser sent the app no session cookie from the build
        assert "lms_session" not in (request.all_headers().get("cookie") or ""), request.url
    page.goto("/")  # the student is still in, in their language (the POST did not act as them)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Log out").is_visible()


def test_rubric_grade_stays_hidden_until_release(new_page, stack, assignment):
    staff = new_page(INSTRUCTOR)
    staff.goto("/grading/rubrics/new")
    staff.get_by_label("Title", exact=True).fill("Core loop rubric")
    rows = {"criteria-0-title": "Loop clarity", "criteria-0-levels-0-title": "Clear", "criteria-0-levels-0-points": "4",
            "criteria-0-levels-1-title": "Vague", "criteria-0-levels-1-points": "2",
            "criteria-1-title": "Playability", "criteria-1-levels-0-title": "Plays", "criteria-1-levels-0-points": "4",
            "criteria-1-levels-1-title": "Broken", "criteria-1-levels-1-points": "0"}
    for name, value in rows.items():
        staff.locator(f"[name='{name}']").fill(value)
    staff.get_by_role("button", name="Save rubric").click()
    staff.goto(f"/grading/assignments/{assignment}")
    staff.locator("select[name=rubric_id]").select_option(label="Core loop rubric")
    staff.get_by_role("button", name="Use this rubric").click()
    assert_accessible(staff)

    student_id = stack.one("SELECT id FROM users WHERE email = ?", STUDENT)
    staff.goto(f"/grading/assignments/{assignment}/students/{student_id}")
    staff.get_by_label("Clear").check()
    staff.get_by_label("Broken").check()
    assert staff.locator("#rubric-score").inner_text().startswith("50")
    staff.get_by_label("Comment").fill("良いループです — a clear loop; the build does not start yet.")
    assert_accessible(staff)
    # Keyboard: Tab reaches the rubric and the save button, and the focused control shows it.
    staff.locator("input[name^=level-]").first.focus()
    reached = set()
    for _ in range(40):
        staff.keyboard.press("Tab")
        reached.add(staff.evaluate("document.activeElement.name || document.activeElement.textContent.trim()"))
        if "Save grade" in reached:
            break
    assert "comment" in reached and "Save grade" in reached, reached
    assert visible_focus(staff), "the focused Save button shows no focus indicator"
    staff.get_by_role("button", name="Save grade").click()
    expect(staff.get_by_text("Hidden from the student until the grades are released.")).to_be_visible()

    student = new_page(STUDENT)
    student.goto(f"/assignments/{assignment}")
    assert student.get_by_role("heading", name="Your grade").count() == 0
    assert "良いループです" not in student.locator("main").inner_text()

    staff.goto(f"/grading/assignments/{assignment}")
    staff.get_by_role("button", name="Release grades to students").click()
    expect(staff.locator(".badge.ok", has_text="grades released")).to_be_visible()
    staff.goto("/grading/offerings/1/gradebook")
    assert_accessible(staff)

    student.reload()
    grade = student.locator(".student-grade")
    assert grade.get_by_role("heading", name="Your grade").is_visible()
    assert grade.locator(".score").inner_text().startswith("50")
    assert "良いループです" in grade.inner_text() and "Broken" in grade.inner_text()
