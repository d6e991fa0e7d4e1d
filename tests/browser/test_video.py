"""Journeys 1 and 2: a student watches a lesson video, leaves and resumes on a fresh browser, and
completes the lesson only by watching; an instructor uploads a clip, sees it become ready without
reloading, and adds Japanese captions that show in the player."""
from __future__ import annotations

import re

from tests.browser.conftest import assert_accessible, lesson_id, upload_video
from tests.browser.stack import run_clip

INSTRUCTOR = "tanaka@demo.jdu.uz"  # teaches GD101 (offering 1 in the demo)
STUDENT = "aziz@demo.jdu.uz"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:09.000\nこんにちは、ゲームデザインの世界へ\n"


def video_state(page) -> dict:
    return page.evaluate("""() => { const v = document.getElementById('lesson-video');
        return {t: v.currentTime, paused: v.paused, ended: v.ended, h: v.videoHeight, d: v.duration}; }""")


def wait_playing_past(page, seconds: float) -> None:
    page.wait_for_function(f"document.getElementById('lesson-video').currentTime > {seconds}", timeout=30_000)


def test_student_plays_resumes_and_completes_only_by_watching(new_page, stack, video_lesson):
    offering, lesson = video_lesson
    url = f"/offerings/{offering}/lessons/{lesson}"
    page = new_page(STUDENT)
    segments = []
    page.on("request", lambda r: segments.append(r.url) if re.search(r"/\d+p/seg_\d+\.ts", r.url) else None)
    page.goto(url)
    video = page.locator("#lesson-video")
    video.focus()
    page.keyboard.press("Space")  # native controls: the keyboard starts it, as a person would
    wait_playing_past(page, 4.2)
    with page.expect_response(lambda r: r.url.endswith(f"/lessons/{lesson}/watch")) as reported:
        page.keyboard.press("Space")
    assert reported.value.ok
    state = video_state(page)
    assert state["paused"] and state["h"] == 180, state  # a video rung, not the audio-only one
    assert segments, "hls.js loaded no segment of a video rung"
    assert page.locator("#video-quality option", has_text="180p").count() == 1  # hls.js read the ladder
    left_at = state["t"]
    page.context.close()

    again = new_page(STUDENT)  # another device: no cookies, no local state
    again.goto(url)
    again.wait_for_function("document.getElementById('lesson-video').readyState >= 1")
    again.wait_for_function("document.getElementById('lesson-video').currentTime > 3")
    assert abs(video_state(again)["t"] - left_at) < 1.0, (video_state(again), left_at)
    status = again.locator(".watch-status")
    assert "completed" not in status.inner_text()

    # Seeking to the end and letting it run out must not complete the lesson.
    with again.expect_response(lambda r: r.url.endswith("/watch")):
        again.evaluate("() => { const v = document.getElementById('lesson-video'); v.currentTime = v.duration - 0.6; v.play(); }")
        again.wait_for_function("document.getElementById('lesson-video').ended")
    again.wait_for_function("!/completed/.test(document.querySelector('.watch-status').textContent)")
    assert "completed" not in status.inner_text()
    assert stack.one("SELECT count(*) FROM lesson_progress WHERE lesson_id = ? AND completed_at IS NOT NULL", lesson) == 0

    # Watching the rest (at 2x, from where they left) does.
    again.locator("#video-speed").select_option("2")
    again.evaluate(f"() => {{ const v = document.getElementById('lesson-video'); v.currentTime = {left_at}; v.play(); }}")
    again.wait_for_function("document.getElementById('lesson-video').ended", timeout=30_000)
    again.wait_for_function("/completed/.test(document.querySelector('.watch-status').textContent)")
    assert status.inner_text().strip() == "Video watched: lesson completed"
    again.goto(f"/offerings/{offering}")
    assert again.get_by_text("1 of 9 lessons completed").is_visible()


def test_instructor_uploads_sees_ready_live_and_adds_japanese_captions(new_page, stack, tmp_path):
    page = new_page(INSTRUCTOR)
    lesson = lesson_id(stack, "core-loop")
    clip = run_clip(tmp_path / "core-loop.mp4", seconds=10, size="640x360")
    part_puts = []
    page.on("request", lambda r: part_puts.append(r.headers) if r.method == "PUT" and "/parts/" in r.url else None)
    seen = upload_video(page, lesson, clip)
    assert any(s.startswith(("Queued", "Preparing")) for s in seen), seen  # followed live, then ready
    # Parts sent through the app carry the SHA-256 the page computed, so only intact parts are kept.
    assert part_puts and all(len(h.get("x-part-sha256", "")) == 64 for h in part_puts), part_puts
    assert "360p" in seen[-1]
    assert_accessible(page)

    vtt = tmp_path / "ja.vtt"
    vtt.write_text(VTT, encoding="utf-8")
    page.locator("select[name=language]").first.select_option("ja")
    page.locator("input[type=file][name=file]").first.set_input_files(str(vtt))
    page.get_by_role("button", name="Add captions").click()
    assert page.get_by_text("(1 cues)").first.is_visible() or page.get_by_text("1 cues").first.is_visible()

    student = new_page(STUDENT, locale="ja")  # Japanese reader: the ja track is on by default
    student.goto(f"/offerings/1/lessons/{lesson}")
    track = student.locator("#lesson-video track[srclang=ja]")
    assert track.get_attribute("default") is not None
    student.locator("#lesson-video").focus()
    student.keyboard.press("Space")
    student.wait_for_function("""() => { const t = document.getElementById('lesson-video').textTracks[0];
        return t && t.mode === 'showing' && t.activeCues && t.activeCues.length > 0; }""")
    cue = student.evaluate("document.getElementById('lesson-video').textTracks[0].activeCues[0].text")
    assert cue == "こんにちは、ゲームデザインの世界へ"
