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


AUDIO_GROUP = "audio"


def write_master(out_dir: Path, rungs: list[Rung]) -> str:
    """The master playlist, lowest rung first (players that start on the first variant start small).

    The sound is one EXT-X-MEDIA rendition that every video variant names as its AUDIO group, so it is
    encoded and stored once and a player can keep it while it switches video rungs; each variant's
    BANDWIDTH counts the sound too, as the HLS spec wants. Without video the sound is the only variant."""
    video = sorted((r for r in rungs if not r.audio_only), key=lambda r: r.video_kbps)
    audio = next((r for r in rungs if r.audio_only), None)
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    audio_peak = audio_average = 0
    if audio is not None:
        audio_peak, audio_average = measured_bandwidth(out_dir / audio.name)
        if video:
            lines.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Audio",DEFAULT=YES,'
                         f'AUTOSELECT=YES,CHANNELS="2",URI="{audio.name}/index.m3u8"')
        else:
            lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={max(audio_peak, 1)},AVERAGE-BANDWIDTH={max(audio_average, 1)},'
                      f'CODECS="{audio.codecs}"', f"{audio.name}/index.m3u8"]
    for rung in video:
        peak, average = measured_bandwidth(out_dir / rung.name)
        attrs = [f"BANDWIDTH={max(peak + audio_peak, 1)}", f"AVERAGE-BANDWIDTH={max(average + audio_average, 1)}",
                 f'CODECS="{rung.codecs},{audio.codecs}"' if audio else f'CODECS="{rung.codecs}"',
                 f"RESOLUTION={rung.width}x{rung.height}"]
        if audio is not None:
            attrs.append(f'AUDIO="{AUDIO_GROUP}"')
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
