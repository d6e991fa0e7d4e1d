"""transcode_hls + write_master on a real clip: one ffmpeg, every rung, valid VOD playlists.

The clip is transcoded once per module (1 s of 1280x720 with audio: 720p, 480p, 360p, 240p and 144p video
rungs and one audio rendition beside them); the tests below read what it produced.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lms.media import ffmpeg
from lms.video.hls import measured_bandwidth, read_media_playlist, write_master
from lms.video.ladder import plan_ladder

SEGMENT_SECONDS = 1


@dataclass
class Result:
    source: Path
    out: Path
    rungs: list
    duration: float
    master: str
    progress: list = field(default_factory=list)
    runs: list = field(default_factory=list)


@pytest.fixture(scope="module")
def encoded(clip, tmp_path_factory):
    source = clip("lecture.mp4")
    probe = ffmpeg.probe(source, max_duration=60)
    rungs = plan_ladder(probe)
    result = Result(source, tmp_path_factory.mktemp("hls"), rungs, probe.duration, master="")
    real_run = ffmpeg.run

    def counting_run(argv, **kwargs):
        result.runs.append(list(argv))
        return real_run(argv, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ffmpeg, "run", counting_run)
        ffmpeg.transcode_hls(source, result.out, rungs, duration=probe.duration,
                             segment_seconds=SEGMENT_SECONDS, timeout=120,
                             progress=lambda fraction, eta: result.progress.append((fraction, eta)),
                             cancel=threading.Event())
    result.master = write_master(result.out, rungs)
    return result


def ffprobe_streams(path: Path) -> list[dict]:
    argv = [ffmpeg._binary("ffprobe"), "-v", "error", "-show_streams", "-of", "json",
            "-protocol_whitelist", "file", "-format_whitelist", "mpegts", f"file:{path}"]
    return json.loads(ffmpeg.run(argv, timeout=30))["streams"]


def test_the_planned_ladder(encoded):
    assert [r.name for r in encoded.rungs] == ["720p", "480p", "360p", "240p", "144p", "audio"]


def test_one_ffmpeg_process_encodes_every_rung(encoded):
    assert len(encoded.runs) == 1
    (argv,) = encoded.runs
    assert Path(argv[0]).name == "ffmpeg"
    assert sum(Path(a).name in ("ffmpeg", "ffprobe") for a in argv) == 1
    assert argv.count("-i") == 1  # decoded once...
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.startswith("[0:v:0]split=5")  # ...and split into the five video rungs
    stream_map = argv[argv.index("-var_stream_map") + 1].split(" ")
    assert len(stream_map) == len(encoded.rungs)
    assert argv[argv.index("-protocol_whitelist") + 1] == "file"
    assert argv[argv.index("-i") + 1] == f"file:{encoded.source}"


def test_hls_ladder_argv_has_a_single_input(tmp_path):
    argv = ffmpeg.hls_ladder_argv(Path("/src/in.mp4"), tmp_path, plan_ladder(ffmpeg.Probe(
        "mov,mp4,m4a,3gp,3g2,mj2", 10.0, 1920, 1080, 30.0, True, True, 1)), segment_seconds=4)
    assert argv.count("-i") == 1
    assert [Path(a).name for a in argv].count("ffmpeg") == 1
    assert "split=6" in argv[argv.index("-filter_complex") + 1]
    assert argv.count("-map") == 6 + 1  # six video branches and the sound, encoded once for all of them


def test_every_rung_has_a_complete_vod_playlist(encoded):
    for rung in encoded.rungs:
        playlist = encoded.out / rung.name / "index.m3u8"
        text = playlist.read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
        segments = read_media_playlist(playlist)
        assert segments, rung.name
        for seconds, uri in segments:
            assert "/" not in uri and ".." not in uri  # relative, inside the rung's folder
            assert (encoded.out / rung.name / uri).stat().st_size > 0
            assert 0 < seconds <= SEGMENT_SECONDS + 1
        assert sum(s for s, _ in segments) == pytest.approx(encoded.duration, abs=0.15), rung.name


def test_segments_hold_what_the_master_promises(encoded):
    for rung in encoded.rungs:
        first = read_media_playlist(encoded.out / rung.name / "index.m3u8")[0][1]
        streams = ffprobe_streams(encoded.out / rung.name / first)
        kinds = sorted(s["codec_name"] for s in streams)
        if rung.audio_only:
            assert kinds == ["aac"]
            assert (streams[0]["channels"], streams[0]["sample_rate"]) == (2, "48000")
            continue
        assert kinds == ["h264"]  # the sound is the audio rendition's, not muxed into every rung
        (video,) = streams
        assert (video["width"], video["height"]) == (rung.width, rung.height)
        assert video["profile"] == "Main"
        assert video["level"] == round(float(rung.level) * 10)  # what CODECS says


def first_timestamp(path: Path) -> float:
    argv = [ffmpeg._binary("ffprobe"), "-v", "error", "-show_entries", "packet=pts_time", "-read_intervals", "%+#1",
            "-of", "json", "-protocol_whitelist", "file", "-format_whitelist", "mpegts", f"file:{path}"]
    return float(json.loads(ffmpeg.run(argv, timeout=30))["packets"][0]["pts_time"])


def test_sound_and_picture_start_together(encoded):
    """Players line the audio rendition up with a video rung by their timestamps: they must agree."""
    starts = {r.name: first_timestamp(encoded.out / r.name / read_media_playlist(
        encoded.out / r.name / "index.m3u8")[0][1]) for r in encoded.rungs}
    for name, start in starts.items():
        assert start == pytest.approx(starts["audio"], abs=0.05), starts


def test_master_lists_every_rung(encoded):
    lines = encoded.master.splitlines()
    assert lines[0] == "#EXTM3U"
    assert (encoded.out / "master.m3u8").read_text() == encoded.master
    (media,) = [line for line in lines if line.startswith("#EXT-X-MEDIA:")]
    group = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', media.split(":", 1)[1]))
    assert group["TYPE"] == "AUDIO" and group["URI"] == '"audio/index.m3u8"' and group["DEFAULT"] == "YES"
    audio_peak, _ = measured_bandwidth(encoded.out / "audio")
    variants = []
    for rung in (r for r in encoded.rungs if not r.audio_only):
        uri_line = lines.index(f"{rung.name}/index.m3u8")
        info = lines[uri_line - 1]
        assert info.startswith("#EXT-X-STREAM-INF:")
        attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', info.split(":", 1)[1]))
        assert int(attrs["BANDWIDTH"]) >= int(attrs["AVERAGE-BANDWIDTH"]) > 0
        # The variant's figures count the sound it plays beside the picture.
        assert int(attrs["BANDWIDTH"]) == measured_bandwidth(encoded.out / rung.name)[0] + audio_peak
        assert attrs["CODECS"] == f'"{rung.codecs},mp4a.40.2"' and attrs["AUDIO"] == group["GROUP-ID"]
        assert attrs["RESOLUTION"] == f"{rung.width}x{rung.height}"
        variants.append((uri_line, int(attrs["BANDWIDTH"])))
    # Lowest first: a player that starts on the first variant listed starts on the smallest.
    assert [b for _, b in sorted(variants)] == sorted(b for _, b in variants)
    assert encoded.master.count("#EXT-X-STREAM-INF:") == len(encoded.rungs) - 1


def test_progress_increases_to_the_end(encoded):
    fractions = [fraction for fraction, _ in encoded.progress]
    assert fractions, "no progress was reported"
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0, abs=0.05)
    assert all(eta is None or eta >= 0 for _, eta in encoded.progress)


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first start-of-frame marker."""
    assert data[:2] == b"\xff\xd8"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    raise AssertionError("no SOF marker")


def test_poster_is_a_jpeg_at_most_720_high(clip, tmp_path):
    out = tmp_path / "poster.jpg"
    ffmpeg.poster(clip("hd.mp4"), out, at_seconds=0.5)
    data = out.read_bytes()
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert jpeg_size(data) == (1280, 720)


def write_rung(folder: Path, segments: list[tuple[float, int]], *, end: bool = True) -> Path:
    folder.mkdir()
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for i, (seconds, size) in enumerate(segments):
        (folder / f"seg_{i:05d}.ts").write_bytes(b"\x47" * size)
        lines += [f"#EXTINF:{seconds},", f"seg_{i:05d}.ts"]
    (folder / "index.m3u8").write_text("\n".join(lines + (["#EXT-X-ENDLIST"] if end else [])) + "\n")
    return folder


def test_bandwidth_peak_is_never_below_the_average(tmp_path):
    # A long segment and a 20 ms tail (the audio rung's last AAC frame, as in the real encode above).
    rung = write_rung(tmp_path / "audio", [(4.0, 32_000), (0.02, 1_500)])
    peak, average = measured_bandwidth(rung)
    assert average == pytest.approx((33_500 * 8) / 4.02, abs=1)
    assert peak >= average


def test_incomplete_or_malformed_playlists_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not a complete VOD playlist"):
        read_media_playlist(write_rung(tmp_path / "live", [(4.0, 10)], end=False) / "index.m3u8")
    bad = tmp_path / "bad.m3u8"
    bad.write_text("#EXTM3U\nseg_00000.ts\n#EXT-X-ENDLIST\n")
    with pytest.raises(ValueError, match="no #EXTINF"):
        read_media_playlist(bad)
