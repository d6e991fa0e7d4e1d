"""Which renditions to make from a source: never upscale, always an audio-only rung for weak links."""
from __future__ import annotations

from dataclasses import dataclass

from lms.media.ffmpeg import Probe

# short side, video kbit/s, H.264 level (Main profile); audio is muxed into each video rung.
VIDEO_RUNGS = [(1080, 5000, "4.0"), (720, 2800, "3.1"), (480, 1400, "3.0"), (360, 800, "3.0")]
RUNG_AUDIO_KBPS = 96
AUDIO_ONLY_KBPS = 64
SEGMENT_SECONDS = 4
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
        level_hex = f"{int(float(self.level) * 10):02x}"
        return f"avc1.4d40{level_hex}" + (",mp4a.40.2" if self.audio_kbps else "")

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


def plan_ladder(source: Probe) -> list[Rung]:
    """Video rungs no larger than the source (the source's own size if smaller than 360p)."""
    rungs: list[Rung] = []
    audio = RUNG_AUDIO_KBPS if source.has_audio else 0
    if source.has_video:
        short, long_ = min(source.width, source.height), max(source.width, source.height)
        landscape = source.width >= source.height
        sizes = [r for r in VIDEO_RUNGS if r[0] <= short] or [(short, 600, "3.0")]
        for target, kbps, level in sizes:
            other = _even(long_ * target / short, long_)
            target = _even(target, short)
            width, height = (other, target) if landscape else (target, other)
            rungs.append(Rung(f"{target}p", width, height, kbps, audio, _level(level, width, height, source.fps)))
    if source.has_audio:
        rungs.append(Rung("audio", None, None, 0, AUDIO_ONLY_KBPS, None))
    return rungs
