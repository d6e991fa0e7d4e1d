"""plan_ladder(): pure decisions about which renditions to make; no ffmpeg here."""
from __future__ import annotations

import re

import pytest

from lms.media.ffmpeg import Probe
from lms.video.ladder import Rung, plan_ladder


def source(width: int | None, height: int | None, *, fps: float | None = 30.0, audio: bool = True) -> Probe:
    video = width is not None
    return Probe(format_name="mov,mp4,m4a,3gp,3g2,mj2", duration=600.0, width=width, height=height,
                 fps=fps if video else None, has_video=video, has_audio=audio, size=10**8)


def sizes(rungs: list[Rung]) -> list[tuple]:
    return [(r.name, r.width, r.height) for r in rungs]


def test_1080p_source():
    rungs = plan_ladder(source(1920, 1080))
    assert sizes(rungs) == [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480),
                            ("360p", 640, 360), ("240p", 426, 240), ("144p", 256, 144), ("audio", None, None)]
    assert [r.video_kbps for r in rungs] == sorted((r.video_kbps for r in rungs), reverse=True)
    # The sound is one rendition beside the video rungs, not muxed into each of them.
    assert [r.audio_kbps > 0 for r in rungs] == [False] * 6 + [True]
    # Under a weak link's budget: 144p with its sound fits in a quarter of 1 Mbit/s.
    assert rungs[-2].bandwidth + rungs[-1].bandwidth <= 250_000


def test_720p_source():
    assert sizes(plan_ladder(source(1280, 720))) == [("720p", 1280, 720), ("480p", 854, 480),
                                                     ("360p", 640, 360), ("240p", 426, 240), ("144p", 256, 144),
                                                     ("audio", None, None)]


def test_360p_source():
    assert sizes(plan_ladder(source(640, 360))) == [("360p", 640, 360), ("240p", 426, 240), ("144p", 256, 144),
                                                    ("audio", None, None)]


def test_4k_source_tops_out_at_1080p():
    assert sizes(plan_ladder(source(3840, 2160)))[0] == ("1080p", 1920, 1080)


def test_smaller_than_360p_keeps_its_own_size():
    rungs = plan_ladder(source(320, 180))
    assert sizes(rungs) == [("180p", 320, 180), ("audio", None, None)]  # 144p would be barely smaller
    assert 0 < rungs[0].video_kbps < 600
    # Well above 144p, the small rungs come under it.
    assert sizes(plan_ladder(source(568, 320)))[:3] == [("320p", 568, 320), ("240p", 426, 240), ("144p", 256, 144)]


def test_audio_only_source():
    rungs = plan_ladder(source(None, None))
    assert len(rungs) == 1
    (audio,) = rungs
    assert audio.audio_only and audio.name == "audio" and audio.video_kbps == 0 and audio.audio_kbps > 0
    assert audio.codecs == "mp4a.40.2"


def test_portrait_source_keeps_orientation():
    rungs = [r for r in plan_ladder(source(720, 1280)) if not r.audio_only]
    assert sizes(rungs) == [("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640), ("240p", 240, 426),
                            ("144p", 144, 256)]
    for r in rungs:
        assert r.width < r.height
        assert r.width % 2 == 0 and r.height % 2 == 0


def test_source_without_audio():
    rungs = plan_ladder(source(1280, 720, audio=False))
    assert [r.name for r in rungs] == ["720p", "480p", "360p", "240p", "144p"]  # no audio rung
    for r in rungs:
        assert r.audio_kbps == 0
        assert r.bandwidth == r.video_kbps * 1000
        assert "mp4a" not in r.codecs


def test_codecs_strings():
    rungs = plan_ladder(source(1920, 1080))
    for r in rungs[:-1]:  # video only: the master adds the audio rendition's codec to each variant
        assert re.fullmatch(r"avc1\.4d40[0-9a-f]{2}", r.codecs), r.codecs
        assert int(r.codecs[9:11], 16) == round(float(r.level) * 10)
    assert [r.codecs for r in rungs] == ["avc1.4d4028", "avc1.4d401f", "avc1.4d401f", "avc1.4d401e", "avc1.4d401e",
                                         "avc1.4d401e", "mp4a.40.2"]
    assert rungs[-1].bandwidth == rungs[-1].audio_kbps * 1000


@pytest.mark.parametrize("width,height", [
    (1920, 1080), (1280, 720), (720, 1280), (1080, 1920), (1440, 1080), (1080, 1080), (2560, 1080),
    (3840, 2160), (1919, 1079), (1281, 721), (1083, 1080), (854, 480), (640, 360), (359, 203),
    (203, 359), (320, 180), (176, 144), (100, 2000), (2, 2),
])
def test_every_rung_is_even_and_never_upscaled(width, height):
    rungs = [r for r in plan_ladder(source(width, height)) if not r.audio_only]
    assert rungs
    for r in rungs:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= width and r.height <= height, (r, width, height)
        assert (r.width >= r.height) == (width >= height)
        assert abs(r.width / r.height - width / height) < 0.02 * width / height + 2 / r.height


# ITU-T H.264 Table A-1: level -> (max macroblocks per second, max frame size in macroblocks).
H264_LEVELS = {"3.0": (40500, 1620), "3.1": (108000, 3600), "3.2": (216000, 5120), "4.0": (245760, 8192),
               "4.1": (245760, 8192), "4.2": (522240, 8704), "5.0": (589824, 22080),
               "5.1": (983040, 36864), "5.2": (2073600, 36864)}


def macroblocks(rung: Rung) -> int:
    return -(-rung.width // 16) * -(-rung.height // 16)


@pytest.mark.parametrize("width,height,fps", [
    (1920, 1080, 25), (1920, 1080, 30), (1920, 1080, 60), (1280, 720, 60), (1920, 1080, 120),
    (2560, 1080, 30), (1080, 1920, 60), (3840, 2160, 120), (320, 180, 30), (1280, 720, None),
])
def test_declared_level_fits_the_rung(width, height, fps):
    """The H.264 level in CODECS (and given to x264) must allow the rung's frame size and rate;
    players pick renditions by it and strict decoders refuse streams that exceed it."""
    for r in plan_ladder(source(width, height, fps=fps)):
        if r.audio_only:
            continue
        per_second, frame = H264_LEVELS[r.level]
        assert macroblocks(r) <= frame, r
        assert macroblocks(r) * (fps or 30) <= per_second, r


def test_level_stays_at_the_rung_default_when_it_fits():
    levels = {r.name: r.level for r in plan_ladder(source(1920, 1080, fps=25))}
    assert levels == {"1080p": "4.0", "720p": "3.1", "480p": "3.0", "360p": "3.0", "240p": "3.0", "144p": "3.0",
                      "audio": None}
