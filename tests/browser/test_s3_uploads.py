"""Uploads straight to S3 (a moto server standing in for the bucket), in a real browser with the
app's Content-Security-Policy enforced: an instructor's lesson video goes part by part to presigned
bucket URLs (CORS preflights answered by the rule `flask lms s3-setup` applied, ETag read from the
answer), the worker transcodes it from the bucket, and the student's player fetches segments from
the bucket. After a dropped connection, choosing the file again sends only the missing parts."""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from lms.media.ffmpeg import synthesize
from tests.browser.conftest import READY, VIEWPORT, lesson_id, login, upload_video, wait_ready

INSTRUCTOR = "tanaka@demo.jdu.uz"  # teaches GD101 (offering 1 in the demo)
STUDENT = "aziz@demo.jdu.uz"
PART = 8 * 1024 * 1024
NETWORK = "The connection dropped. Check your network and upload again."
APP_PART_ROUTE = re.compile(r"/uploads/[^/?]+/parts/(\d+)$")

# What the page itself reports, across its own reloads: the upload bar's values and any CSP refusal.
WATCH = """
document.addEventListener('securitypolicyviolation', function (e) {
  window.__lmsSeen('csp ' + e.violatedDirective + ' ' + e.blockedURI);
});
document.addEventListener('DOMContentLoaded', function () {
  var bar = document.querySelector('#video-upload .upload-progress');
  if (!bar) { return; }
  new MutationObserver(function () { if (!bar.hidden) { window.__lmsSeen('bar ' + bar.value); } })
    .observe(bar, {attributes: true, attributeFilter: ['value', 'hidden']});
});
"""


@pytest.fixture
def s3_page(browser, s3_stack):
    """`s3_page(email)` -> (page, seen): logged in, CSP *not* bypassed; seen collects the WATCH reports."""
    contexts = []

    def make(email: str):
        context = browser.new_context(base_url=s3_stack.app_url, viewport=VIEWPORT, locale="en")
        context.set_default_timeout(15_000)
        contexts.append(context)
        seen: list[str] = []
        context.expose_function("__lmsSeen", lambda text: seen.append(text))
        context.add_init_script(WATCH)
        page = context.new_page()
        login(page, email)
        return page, seen

    yield make
    for context in contexts:
        context.close()


def part_number(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["partNumber"][0])


def bar_values(seen: list[str]) -> list[float]:
    return [float(s.split()[1]) for s in seen if s.startswith("bar ")]


def csp_refusals(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("csp ")]


def upload_row(stack, lesson: int) -> tuple[str, str, str]:
    rows = stack.query("SELECT token, key, storage_upload_id FROM uploads WHERE purpose = 'lesson_video' "
                       "AND target_id = ? ORDER BY id", lesson)
    assert len(rows) == 1, rows  # one upload, resumed, not a second one started
    return rows[0]


def preflights(stack, key: str) -> list[tuple[int, str]]:
    """(part, status) of each CORS preflight the bucket answered for this upload, from moto's log."""
    found = re.findall(rf'"OPTIONS /{stack.bucket}/lms/{re.escape(key)}\?(\S+) HTTP/1\.1" (\d+)',
                       stack.log("moto", tail=10**7))
    return [(int(parse_qs(query)["partNumber"][0]), status) for query, status in found]


@pytest.fixture(scope="module")
def three_part_video(tmp_path_factory) -> Path:
    """A real H.264/AAC clip in three parts of 8 MiB (about 18 MB of 720p)."""
    path = tmp_path_factory.mktemp("s3-clips") / "long-take.mp4"
    synthesize(path, seconds=22, width=1280, height=720)
    assert 2 * PART < path.stat().st_size <= 3 * PART, path.stat().st_size
    return path


def test_lesson_video_goes_to_the_bucket_and_plays_from_it(s3_stack, s3_page, tmp_path):
    stack = s3_stack
    page, seen = s3_page(INSTRUCTOR)
    sent, answers = [], []
    page.on("request", lambda r: sent.append((r.method, r.url)))
    page.on("response", lambda r: answers.append((r.url, r.status, r.headers)) if r.request.method == "PUT" else None)
    clip = tmp_path / "intro.mp4"
    synthesize(clip, seconds=6)  # 640x360, one part
    lesson = lesson_id(stack, "what-is-a-game")

    cdp = page.context.new_cdp_session(page)  # a slower line (2 MB/s up), so the bar has steps to show
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 2_000_000})
    status = upload_video(page, lesson, clip)  # the page reloads itself when the upload is claimed
    assert READY in status[-1] and "360p" in status[-1], status

    puts = [url for method, url in sent if method == "PUT"]
    assert puts and all(url.startswith(stack.s3_url + "/") for url in puts), puts
    assert not [url for method, url in sent if method == "PUT" and url.startswith(stack.app_url)], sent
    assert [part_number(url) for url in puts] == [1]
    for url, code, headers in answers:  # the bucket's rule, not a permissive default: ETag is readable
        assert code == 200 and headers.get("access-control-allow-origin") == stack.app_url, (code, headers)
        assert "etag" in headers.get("access-control-expose-headers", "").lower(), headers
    _token, key, _ = upload_row(stack, lesson)
    assert preflights(stack, key) == [(1, "200")]  # real preflights, answered by moto
    values = bar_values(seen)
    assert values and values[-1] == 100 and values == sorted(values), values  # forward only, to the end
    assert len([v for v in values if 0 < v < 100]) >= 3, values  # and in steps on the way
    assert not csp_refusals(seen), seen

    # The worker read the original from the bucket and published the renditions there; no media on disk.
    keys = [o["Key"] for o in stack.s3_client().list_objects_v2(Bucket=stack.bucket, Prefix="lms/")["Contents"]]
    assert any(re.search(r"/360p/seg_\d+\.ts$", k) for k in keys), keys
    assert not [p for p in (stack.tmp / "media").rglob("*") if p.suffix in (".ts", ".mp4", ".m3u8")]

    student, student_seen = s3_page(STUDENT)
    segments = []
    student.on("response", lambda r: segments.append((r.url, r.status)) if re.search(r"/seg_\d+\.ts", r.url) else None)
    student.goto(f"/offerings/1/lessons/{lesson}")
    student.locator("#lesson-video").focus()
    student.keyboard.press("Space")
    student.wait_for_function("() => document.getElementById('lesson-video').currentTime > 2", timeout=30_000)
    assert student.evaluate("document.getElementById('lesson-video').videoHeight") > 0
    assert segments and all(url.startswith(stack.s3_url + "/") and code == 200 for url, code in segments), segments
    assert not csp_refusals(student_seen), student_seen


def test_dropped_connection_resumes_with_the_missing_parts_only(s3_stack, s3_page, three_part_video):
    stack = s3_stack
    page, seen = s3_page(INSTRUCTOR)
    page.clock.install()  # the page's retry back-off waits are fast-forwarded below, not slept through
    lesson = lesson_id(stack, "core-loop")
    page.goto(f"/authoring/lessons/{lesson}")

    sent, aborted = [], []
    page.on("request", lambda r: sent.append((r.method, r.url)))

    def drop_parts_2_and_3(route):
        if route.request.method == "PUT" and part_number(route.request.url) in (2, 3):
            aborted.append(part_number(route.request.url))
            route.abort("connectionreset")
        else:
            route.continue_()

    to_bucket = lambda url: url.startswith(stack.s3_url + "/")  # noqa: E731
    page.route(to_bucket, drop_parts_2_and_3)
    page.locator("#video-file").set_input_files(str(three_part_video))
    page.get_by_role("button", name="Upload", exact=True).click()
    message = page.locator("#video-upload .upload-message")
    deadline = time.monotonic() + 30
    while message.inner_text() != NETWORK and time.monotonic() < deadline:
        page.clock.fast_forward(31_000)  # longer than any back-off (at most 1.5 x 16 s)
        page.wait_for_timeout(100)
    assert message.inner_text() == NETWORK, (message.inner_text(), aborted)
    # A try the page had started just before it gave up can reach this process a moment after the
    # message shows (route events are delivered asynchronously): let those arrive before counting.
    page.wait_for_timeout(500)
    tries = {n: aborted.count(n) for n in (2, 3)}
    assert max(tries.values()) == 5 and min(tries.values()) >= 1, aborted  # five tries, then it gave up
    given_up = len(aborted)
    for _ in range(3):  # nothing goes on behind the failure message: no more tries, no progress over it
        page.clock.fast_forward(31_000)
        page.wait_for_timeout(100)
    assert len(aborted) == given_up and message.inner_text() == NETWORK, (aborted, message.inner_text())
    first = [part_number(url) for method, url in sent if method == "PUT"]
    assert first.count(1) == 1 and len(first) == 1 + given_up, first
    assert page.locator("#video-upload .upload-progress").is_hidden()
    token, key, upload_id = upload_row(stack, lesson)
    held = stack.s3_client().list_parts(Bucket=stack.bucket, Key=f"lms/{key}", UploadId=upload_id)
    assert [p["PartNumber"] for p in held.get("Parts", [])] == [1]

    page.unroute(to_bucket, drop_parts_2_and_3)  # the connection is back
    # While routing, Playwright answers CORS preflights itself and Chromium caches those answers per
    # URL; a part URL signed a second later is a new URL, so the bucket gets real preflights again.
    page.wait_for_timeout(1100)
    sent.clear()
    seen.clear()
    page.locator("#video-file").set_input_files(str(three_part_video))  # the same file, chosen again
    page.get_by_role("button", name="Upload", exact=True).click()
    status = wait_ready(page)
    assert "720p" in status[-1], status

    puts = [url for method, url in sent if method == "PUT"]
    assert sorted(part_number(url) for url in puts) == [2, 3], puts  # part 1 is not sent again
    assert all(url.startswith(stack.s3_url + "/") for url in puts), puts
    asked = [int(APP_PART_ROUTE.search(urlsplit(url).path).group(1))
             for method, url in sent if method == "GET" and APP_PART_ROUTE.search(urlsplit(url).path)]
    assert sorted(asked) == [2, 3], asked
    assert ("GET", f"{stack.app_url}/uploads/{token}") in sent  # it asked which parts the bucket holds
    assert upload_row(stack, lesson)[0] == token
    assert (2, "200") in preflights(stack, key) and (3, "200") in preflights(stack, key)
    values = [v for v in bar_values(seen) if v]  # resumed at part 1's share, then on to 100
    assert values and values[0] == round(PART / three_part_video.stat().st_size * 100), values
    assert values[-1] == 100 and values == sorted(values), values
    assert not csp_refusals(seen), seen
