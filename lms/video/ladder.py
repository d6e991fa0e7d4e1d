"""Which renditions to make from a source: never upscale, rungs down to 144p, and the sound as one
rendition of its own that every video rung plays beside (and the player falls back to on the weakest links).

Designed from bench/playback.py (bench/README.md): the old lowest rung (360p with its muxed audio, 953
kbit/s on disk, 464 kB for a first 4 s segment) could not start or keep up on a 1 Mbit/s link with 150 ms
per request; a 144p first segment with its sound is 27 + 18 kB, a 240p one 64 + 18 kB, and the player
(static/js/player.js) keeps 1 Mbit/s on 240p with no stall. The sound is encoded once, not per rung.
"""
from __future__ import annotations

from dataclasses import dataclass

from lms.media.ffmpeg import Probe

# short side, video kbit/s, H.264 level (Main profile); the video rungs carry no audio.
VIDEO_RUNGS = [(1080, 4500, "4.0"), (720, 2500, "3.1"), (480, 1100, "3.0"), (360, 600, "3.0"), (240, 300, "3.0"),
               (144, 110, "3.0")]
SMALL_SOURCE = 360  # below it the source keeps its own size as the top rung
AUDIO_KBPS = 64  # AAC-LC stereo: speech and music of a lecture stay clear; 16 kB per segment
SEGMENT_SECONDS = 2
# H.264 levels: (level, max macroblocks per second, max frame size in macroblocks).
LEVELS = [("3.0", 40500, 1620), ("3.1", 108000, 3600), ("3.2", 216000, 5120), ("4.0", 245760, 8192),
          ("4.1", 245760, 8192), ("4.2", 522240, 8704), ("5.0", 589824, 22080), ("5.1", 983040, 36864),
          ("5.2", 2073600, 36864)]


@dataclass(frozen=True)
class Rung:
    name: str
    width: int | None  # None: audio only
    height: int | None
    video_kbps: int
    audio_kbps: int
    level: str | None

    @property
    def audio_only(self) -> bool:
        return self.width is None

    @property
    def codecs(self) -> str:
        if self.audio_only:
            return "mp4a.40.2"
        return f"avc1.4d40{int(float(self.level) * 10):02x}"

    @property
    def bandwidth(self) -> int:
        return (self.video_kbps + self.audio_kbps) * 1000


def _even(value: float, limit: int) -> int:
    """The nearest even number, but never above the source's own size (no upscaling by a pixel)."""
    return max(2, min(int(round(value / 2)) * 2, limit // 2 * 2))


def _level(nominal: str, width: int, height: int, fps: float | None) -> str:
    """The rung's usual level, or a higher one when the picture or frame rate needs it (60 fps, 21:9)."""
    cols, rows = -(-width // 16), -(-height // 16)
    for level, per_second, frame in LEVELS:
        if (float(level) >= float(nominal) and cols * rows <= frame and max(cols, rows) ** 2 <= 8 * frame
                and cols * rows * (fps or 30) <= per_second):
            return level
    return LEVELS[-1][0]


def _sizes(short: int) -> list[tuple[int, int, str]]:
    """(short side, kbit/s, level) of each video rung, largest first. A source under 360p keeps its own
    size, at the rate of a 360p scaled by its pixels, and only the rungs well under it (3/4 at most)."""
    if short >= SMALL_SOURCE:
        return [r for r in VIDEO_RUNGS if r[0] <= short]
    own = (short, max(VIDEO_RUNGS[-1][1], round(600 * (short / 360) ** 2 / 10) * 10), "3.0")
    return [own, *(r for r in VIDEO_RUNGS if r[0] <= short * 0.75)]


def plan_ladder(source: Probe) -> list[Rung]:
    """Video rungs no larger than the source, largest first, then the audio rendition (if any sound)."""
    rungs: list[Rung] = []
    if source.has_video:
        short, long_ = min(source.width, source.height), max(source.width, source.height)
        landscape = source.width >= source.height
        for target, kbps, level in _sizes(short):
            other = _even(long_ * target / short, long_)
            target = _even(target, short)
            width, height = (other, target) if landscape else (target, other)
            rungs.append(Rung(f"{target}p", width, height, kbps, 0, _level(level, width, height, source.fps)))
    if source.has_audio:
        rungs.append(Rung("audio", None, None, 0, AUDIO_KBPS, None))
    return rungs
