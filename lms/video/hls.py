"""Reading media playlists and writing the master playlist from what was actually encoded."""
from __future__ import annotations

import math
from pathlib import Path

from lms.video.ladder import Rung


def read_media_playlist(path: Path) -> list[tuple[float, str]]:
    """[(segment seconds, segment uri)] of a VOD media playlist; raises ValueError if malformed."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U" or "#EXT-X-ENDLIST" not in lines:
        raise ValueError(f"{path} is not a complete VOD playlist")
    segments, pending = [], None
    for line in lines[1:]:
        if line.startswith("#EXTINF:"):
            pending = float(line[8:].split(",")[0])
        elif not line.startswith("#"):
            if pending is None:
                raise ValueError(f"{path}: segment {line} has no #EXTINF")
            segments.append((pending, line))
            pending = None
    return segments


def measured_bandwidth(rung_dir: Path) -> tuple[int, int]:
    """(peak, average) bits per second over the rung's segments, as HLS BANDWIDTH wants."""
    segments = read_media_playlist(rung_dir / "index.m3u8")
    rates, total_bits, total_seconds = [], 0, 0.0
    for seconds, uri in segments:
        bits = (rung_dir / uri).stat().st_size * 8
        total_bits += bits
        total_seconds += seconds
        rates.append(bits / max(seconds, 0.1))
    average = total_bits / total_seconds if total_seconds else 0
    # A tiny last segment is rated over 0.1 s, which can put the peak under the average; never report that.
    return math.ceil(max(*rates, average, 0)), math.ceil(average)


def write_master(out_dir: Path, rungs: list[Rung]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung in rungs:
        peak, average = measured_bandwidth(out_dir / rung.name)
        attrs = [f"BANDWIDTH={max(peak, 1)}", f"AVERAGE-BANDWIDTH={max(average, 1)}",
                 f'CODECS="{rung.codecs}"']
        if not rung.audio_only:
            attrs.append(f"RESOLUTION={rung.width}x{rung.height}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), f"{rung.name}/index.m3u8"]
    text = "\n".join(lines) + "\n"
    (out_dir / "master.m3u8").write_text(text)
    return text


def presign_segments(playlist: str, sign) -> str:
    """A media playlist whose segment lines point straight at the store (`sign(name)` → URL).

    Presigned URLs carry their signature in the query, so relative segment names would lose it;
    nested playlists stay relative and come back through the app, which signs them in turn.
    """
    lines = []
    for line in playlist.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped.endswith(".ts"):
            line = sign(stripped)
        lines.append(line)
    return "\n".join(lines) + "\n"
