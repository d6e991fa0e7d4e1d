"""Journey: a student on a link too slow for any video rung hears the lecture with its poster and is
told why; when the link recovers the picture comes back by itself. The link is Chromium's own network
emulation (DevTools protocol), as bench/playback.py throttles it."""
from __future__ import annotations

from tests.browser.conftest import lesson_id, upload_video
from tests.browser.stack import run_clip

INSTRUCTOR = "tanaka@demo.jdu.uz"  # teaches GD101 (offering 1 in the demo)
STUDENT = "timur@demo.jdu.uz"
AUDIO_NOTICE = "The connection is too slow for video"
BACK_NOTICE = "The connection is better again: the video is back."


def throttle(cdp, kbps: int, latency: int) -> None:
    rate = kbps * 1000 / 8
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency,
                                                  "downloadThroughput": rate, "uploadThroughput": rate})


def player(page) -> dict:
    return page.evaluate("""() => { const v = document.getElementById('lesson-video');
        const n = document.querySelector('.player-notice');
        return {mode: v.dataset.mode, h: v.videoHeight, t: v.currentTime, paused: v.paused,
                notice: n.hidden ? '' : n.textContent.trim()}; }""")


def test_a_weak_link_falls_back_to_the_sound_and_recovers(new_page, stack, tmp_path):
    lesson = lesson_id(stack, "player-motivation")
    upload_video(new_page(INSTRUCTOR), lesson, run_clip(tmp_path / "motivation.mp4", seconds=24))
    page = new_page(STUDENT)
    url = f"/offerings/1/lessons/{lesson}"
    page.goto(url)  # the player's scripts are in the browser's cache now; the throttle starts below
    page.locator("#lesson-video").wait_for()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttle(cdp, 150, latency=300)
    page.reload()
    page.evaluate("() => { const v = document.getElementById('lesson-video'); v.muted = true; v.play(); }")

    page.wait_for_function("document.getElementById('lesson-video').dataset.mode === 'audio'", timeout=40_000)
    notice = page.locator(".player-notice")
    assert notice.is_visible() and AUDIO_NOTICE in notice.inner_text()
    assert notice.get_attribute("role") == "status"  # read out by screen readers too
    page.wait_for_function("document.getElementById('lesson-video').currentTime > 1", timeout=40_000)
    state = player(page)
    assert state["h"] == 0 and not state["paused"], state  # the sound plays, no video rung is loaded

    throttle(cdp, 5000, latency=40)  # a good mobile link again
    page.wait_for_function("document.getElementById('lesson-video').dataset.mode === 'video'", timeout=40_000)
    page.wait_for_function("document.getElementById('lesson-video').videoHeight > 0", timeout=20_000)
    state = player(page)
    assert state["notice"] == BACK_NOTICE and not state["paused"], state
    assert state["t"] > 1, state  # it went on from where the sound was, not from the start
