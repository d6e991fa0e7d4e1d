"""Media fixtures: tiny clips made once per session by the real ffmpeg (lavfi sources).

Each clip is generated the first time a test asks for it, so running one file does not pay for the
others. Clips are at most a second long; the size only matters where a test is about the size.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lms.media import ffmpeg

CLIPS = {
    # 1 s of 1080p30 with a tone, moov atom first (so a cut-short copy still has its header).
    "hd.mp4": dict(seconds=1, width=1920, height=1080, fps=30, faststart=True),
    "lecture.mp4": dict(seconds=1, width=1280, height=720, fps=30),
    "small.mp4": dict(seconds=1, width=640, height=360, fps=25, faststart=True),
    "audio.m4a": dict(seconds=1, width=None, height=None),
    "small.mkv": dict(seconds=1, width=160, height=90, fps=25),
    "over4k.mp4": dict(seconds=0.2, width=4096, height=2304, fps=5, audio=False),
    "fast.mp4": dict(seconds=0.2, width=64, height=64, fps=240, audio=False),
}


class Clips:
    def __init__(self, folder: Path):
        self.folder = folder
        self.made: dict[str, Path] = {}

    def __call__(self, name: str) -> Path:
        if name not in self.made:
            path = self.folder / name
            ffmpeg.synthesize(path, **CLIPS[name])
            self.made[name] = path
        return self.made[name]


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """clip("hd.mp4") -> the path of that clip, generated on first use."""
    return Clips(tmp_path_factory.mktemp("clips"))
