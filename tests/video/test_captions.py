"""Captions: SRT converted to WebVTT, malformed files refused with the line, served as text/vtt."""
import io
import re

import pytest

from lms.video.captions import CaptionError, to_webvtt
from tests.video.conftest import login

SRT = """1
00:00:00,500 --> 00:00:02,000
こんにちは、皆さん。

2
00:00:02,000 --> 00:00:02,900
Welcome to <i>Game Design</i>.
"""


def test_srt_becomes_webvtt():
    vtt, cues = to_webvtt(SRT.encode("utf-8-sig"))
    assert cues == 2
    assert vtt.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nこんにちは、皆さん。")
    assert "00:00:02.000 --> 00:00:02.900\nWelcome to <i>Game Design</i>." in vtt


def test_webvtt_is_kept_with_cue_settings_and_notes_dropped():
    source = "WEBVTT\n\nNOTE made by hand\n\nintro\n00:01.000 --> 00:02.000 line:0\nSalom!\n"
    vtt, cues = to_webvtt(source.encode())
    assert cues == 1 and "00:00:01.000 --> 00:00:02.000 line:0\nSalom!" in vtt


@pytest.mark.parametrize("data, reason", [
    (b"1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", "ends before it starts"),
    (b"1\n00:00:01 --> 00:00:02\nno millis\n", "line 2"),
    (b"just some text\nwithout timing\n", "timing line"),
    ("1\n00:00:01,000 --> 00:00:02,000\nhi\n".encode("cp1251") + b"\xff", "UTF-8"),
    (b"", "no captions"),
    (b"1\n00:00:01,000 --> 00:61:02,000\nbad minutes\n", "not valid"),
])
def test_malformed_captions_are_refused_with_a_reason(data, reason):
    with pytest.raises(CaptionError, match=reason):
        to_webvtt(data)


def test_instructor_adds_japanese_captions_and_students_get_a_track(app, world, published):
    instructor = login(app, world.instructor)
    response = instructor.post(f"/authoring/videos/{published.id}/captions",
                               data={"language": "ja", "file": (io.BytesIO(SRT.encode()), "ja.srt")})
    assert response.status_code == 302
    assert "Captions added (2 cues)" in instructor.get(response.headers["Location"]).get_data(as_text=True)
    student = login(app, world.student)
    student.post("/account", data={"locale": "ja"})
    page = student.get(f"/offerings/{world.offering.id}/lessons/{world.lesson.id}").get_data(as_text=True)
    track = re.search(r'<track kind="subtitles" srclang="ja" label="日本語" src="([^"]+)" default>', page)
    assert track, "the Japanese track is on by default for a Japanese-speaking student"
    vtt = student.get(track.group(1))
    assert vtt.headers["Content-Type"] == "text/vtt; charset=utf-8" and "こんにちは" in vtt.get_data(as_text=True)


def test_bad_captions_upload_shows_the_reason(app, world, published):
    instructor = login(app, world.instructor)
    response = instructor.post(f"/authoring/videos/{published.id}/captions",
                               data={"language": "ru", "file": (io.BytesIO(b"garbage"), "ru.srt")},
                               follow_redirects=True)
    assert "The captions were not added" in response.get_data(as_text=True)
    assert published.captions == []


def test_other_instructors_cannot_add_captions(app, world, published):
    response = login(app, world.other_instructor).post(
        f"/authoring/videos/{published.id}/captions", data={"language": "en", "file": (io.BytesIO(SRT.encode()), "x.srt")})
    assert response.status_code == 403
