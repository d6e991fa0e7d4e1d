"""The one place that runs ffmpeg and ffprobe.

Hardening: argv lists and no shell; inputs only as `file:` paths we generated; the file protocol
and a short list of demuxers (so a playlist or concat file dressed as .mp4 cannot pull in other
files or URLs); wall-clock timeouts that kill the whole process group; memory, file-size and open-
file limits set on the child right after it starts.
"""
from __future__ import annotations

import json
import math
import os
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROTOCOLS = "file"
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
ALLOWED_FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}
MAX_WIDTH, MAX_HEIGHT, MAX_FPS = 3840, 2160, 120
MEMORY_LIMIT = 8 * 1024**3
OUTPUT_FILE_LIMIT = 8 * 1024**3
PROBE_TIMEOUT = 30


def N_(message: str) -> str:
    """Marks a message for the catalogs: it is stored untranslated and translated where it is shown,
    in the reader's language (lms/video/failures.py); jobs run in no one's language."""
    return message


class MediaRejected(Exception):
    """The file cannot be used. `message` (a catalog message id, with `params`) is written for the
    instructor who uploaded it; `detail` is the tool's own words, for the log and the admin only."""

    def __init__(self, message: str, detail: str = "", **params):
        self.message, self.params, self.detail = message, params, detail
        super().__init__(message % params if params else message)


class MediaToolError(Exception):
    """ffmpeg failed or timed out on a file that probed fine (retryable)."""


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MediaToolError(f"{name} is not installed (Debian package: ffmpeg).")
    return path


LIMITS = (("--as", resource.RLIMIT_AS, MEMORY_LIMIT), ("--fsize", resource.RLIMIT_FSIZE, OUTPUT_FILE_LIMIT),
          ("--nofile", resource.RLIMIT_NOFILE, 1024), ("--core", resource.RLIMIT_CORE, 0))


def _prlimit_prefix() -> list[str]:
    """util-linux's prlimit sets the limits on itself and then execs the tool, so they hold from the
    tool's first instruction (setting them from the parent after spawn races with the tool starting)."""
    tool = shutil.which("prlimit")
    if tool is None:
        return []
    flags = []
    for flag, limit, value in LIMITS:
        hard = resource.getrlimit(limit)[1]
        flags.append(f"{flag}={value if hard == resource.RLIM_INFINITY else min(value, hard)}")
    return [tool, *flags, "--"]


def _limit(pid: int) -> None:
    # Also set from the parent right after spawn (in case prlimit is missing): no preexec_fn, which is
    # unsafe beside threads.
    for _, limit, value in LIMITS:
        try:
            resource.prlimit(pid, limit, (value, value))
        except (ProcessLookupError, PermissionError, ValueError):
            pass


def _orphan_guard() -> list[str]:
    """util-linux's setpriv asks the kernel to SIGKILL the tool when the worker dies: a worker
    killed with SIGKILL (OOM killer, stop timeout) must not leave an encoder running unwatched."""
    tool = shutil.which("setpriv")
    return [tool, "--pdeathsig", "KILL", "--"] if tool else []


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop(proc: subprocess.Popen, readers: list[threading.Thread]) -> None:
    _kill_group(proc)
    proc.wait()
    for t in readers:
        t.join(timeout=5)
    proc.stdout.close()
    proc.stderr.close()


def run(argv: list[str], *, timeout: float, on_line: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None) -> str:
    """Run a media tool; returns stdout. Kills the process group on timeout or cancel."""
    proc = subprocess.Popen([*_orphan_guard(), *_prlimit_prefix(), *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, process_group=0)
    _limit(proc.pid)
    out_lines: list[str] = []
    err_tail: list[str] = []

    def read_stdout():
        for line in proc.stdout:
            out_lines.append(line)
            if on_line:
                on_line(line.strip())

    def read_stderr():
        for line in proc.stderr:
            err_tail.append(line)
            del err_tail[:-20]

    readers = [threading.Thread(target=read_stdout, daemon=True), threading.Thread(target=read_stderr, daemon=True)]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if cancel is not None and cancel.is_set():
            _stop(proc, readers)
            raise InterruptedError("cancelled")
        if time.monotonic() > deadline:
            _stop(proc, readers)
            raise MediaToolError(f"{Path(argv[0]).name} took longer than {int(timeout)} s and was stopped.")
        try:
            proc.wait(timeout=0.1)  # returns the moment the tool exits; no tick lost per run
        except subprocess.TimeoutExpired:
            pass
    for t in readers:
        t.join(timeout=5)
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0:
        raise MediaToolError(f"{Path(argv[0]).name} exited with {proc.returncode}: {''.join(err_tail).strip()[-1500:]}")
    return "".join(out_lines)


WHITELISTS = ["-protocol_whitelist", PROTOCOLS, "-format_whitelist", DEMUXERS]


def _input_args(path: Path) -> list[str]:
    return [*WHITELISTS, "-i", f"file:{path}"]


@dataclass(frozen=True)
class Probe:
    format_name: str
    duration: float
    width: int | None
    height: int | None
    fps: float | None
    has_video: bool
    has_audio: bool
    size: int


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None


def probe(path: Path, *, max_duration: float) -> Probe:
    """Read the file's streams and check them against our limits. Raises MediaRejected."""
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected(N_("The file is empty (0 bytes). Upload the video file again."))
    argv = [_binary("ffprobe"), "-v", "error", "-show_format", "-show_streams", "-of", "json",
            *WHITELISTS, f"file:{path}"]
    try:
        data = json.loads(run(argv, timeout=PROBE_TIMEOUT) or "{}")
    except MediaToolError as exc:
        raise MediaRejected(N_("This file is not a video we can read (MP4, MOV, MKV or WebM), or it is damaged "
                               "or incomplete."), detail=str(exc)[-300:]) from None
    fmt = data.get("format") or {}
    if fmt.get("format_name") not in ALLOWED_FORMATS:
        raise MediaRejected(N_("Files of type %(type)s are not accepted; upload MP4, MOV, MKV or WebM."),
                            type=repr(fmt.get("format_name")))
    streams = data.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaRejected(N_("The file has no video or audio stream."))
    duration = float(fmt.get("duration") or 0)
    if duration <= 0:
        raise MediaRejected(N_("The file declares no duration; it may be truncated. Export it again."))
    if duration > max_duration:
        raise MediaRejected(N_("The video is %(length)s long; the limit is %(limit)s. Trim it or split it into "
                               "shorter videos."), length=_clock(duration), limit=_clock(max_duration))
    width = height = fps = None
    if video is not None:
        width, height = int(video.get("width") or 0), int(video.get("height") or 0)
        if width <= 0 or height <= 0:
            raise MediaRejected(N_("The video stream declares no picture size; the file is damaged."))
        if max(width, height) > MAX_WIDTH or min(width, height) > MAX_HEIGHT:
            raise MediaRejected(N_("The video is %(width)dx%(height)d; the largest accepted is %(max_width)dx"
                                   "%(max_height)d (4K)."), width=width, height=height, max_width=MAX_WIDTH,
                                max_height=MAX_HEIGHT)
        fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
        if fps is not None and fps > MAX_FPS:
            raise MediaRejected(N_("The video has %(fps).0f frames per second; the limit is %(limit)d."),
                                fps=fps, limit=MAX_FPS)
    _check_declared_size(streams, size)
    _check_tail(path, float(fmt.get("start_time") or 0), duration)
    return Probe(format_name=fmt["format_name"], duration=duration, width=width, height=height, fps=fps,
                 has_video=video is not None, has_audio=audio is not None, size=size)


def _check_declared_size(streams: list[dict], size: int) -> None:
    """Streams declaring far more data than the file holds mean a truncated upload."""
    declared = 0.0
    for stream in streams:
        try:
            declared += float(stream.get("bit_rate") or 0) * float(stream.get("duration") or 0) / 8
        except ValueError:
            continue
    if declared > size * 1.25 + 256 * 1024:
        raise MediaRejected(N_("The file is incomplete: its streams declare %(declared).1f MB but it holds "
                               "%(size).1f MB. Upload it again."), declared=declared / 1e6, size=size / 1e6)


def _clock(seconds: float) -> str:
    """"12.5 s", "4:05" or "1:02:03", so short clips and near-misses do not all read "0 minutes"."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    hours, rest = divmod(math.ceil(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _check_tail(path: Path, start: float, duration: float) -> None:
    """Read the packets of the last few seconds: a file cut short (an interrupted upload) ends
    before the duration its header declares. ffmpeg itself would encode such a file and exit 0."""
    argv = [_binary("ffprobe"), "-v", "error", "-read_intervals", f"{max(start, start + duration - 3):.3f}%",
            "-show_entries", "packet=pts_time,duration_time", "-of", "json", *WHITELISTS, f"file:{path}"]
    try:
        packets = json.loads(run(argv, timeout=PROBE_TIMEOUT) or "{}").get("packets") or []
    except MediaToolError as exc:
        raise MediaRejected(N_("The end of the file cannot be read; it may be incomplete."),
                            detail=str(exc)[-300:]) from None
    ends = []
    for packet in packets:
        try:
            ends.append(float(packet["pts_time"]) + float(packet.get("duration_time") or 0))
        except (KeyError, ValueError):
            continue
    end = max(ends, default=start) - start
    if end < duration - max(0.25, min(1.0, duration * 0.1)):
        raise MediaRejected(N_("The file is incomplete: it declares %(length)s but its data stops at %(end)s. "
                               "Upload it again (let the upload finish) or export it again."),
                            length=_clock(duration), end=_clock(end))


def _video_filters(rungs) -> tuple[str, list[str]]:
    video = [r for r in rungs if not r.audio_only]
    if not video:
        return "", []
    labels = [f"v{i}" for i in range(len(video))]
    graph = f"[0:v:0]split={len(video)}" + "".join(f"[s{i}]" for i in range(len(video))) + ";"
    graph += ";".join(f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1[{labels[i]}]"
                      for i, r in enumerate(video))
    return graph, labels


def hls_ladder_argv(src: Path, out_dir: Path, rungs, *, segment_seconds: int) -> list[str]:
    """One process, one decode, every rung: split the decoded video and encode each branch."""
    graph, labels = _video_filters(rungs)
    argv = [_binary("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *_input_args(src)]
    if graph:
        argv += ["-filter_complex", graph]
    stream_map, v, a = [], 0, 0
    for rung in rungs:
        entry = []
        if not rung.audio_only:
            argv += ["-map", f"[{labels[v]}]", f"-b:v:{v}", f"{rung.video_kbps}k",
                     f"-maxrate:v:{v}", f"{int(rung.video_kbps * 1.07)}k",
                     f"-bufsize:v:{v}", f"{int(rung.video_kbps * 1.5)}k", f"-level:v:{v}", rung.level]
            entry.append(f"v:{v}")
            v += 1
        if rung.audio_kbps:
            argv += ["-map", "0:a:0", f"-b:a:{a}", f"{rung.audio_kbps}k"]
            entry.append(f"a:{a}")
            a += 1
        stream_map.append(",".join(entry + [f"name:{rung.name}"]))
    if v:
        argv += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
                 "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})", "-sc_threshold", "0"]
    if a:
        argv += ["-c:a", "aac", "-ac", "2", "-ar", "48000"]
    argv += ["-f", "hls", "-hls_time", str(segment_seconds), "-hls_playlist_type", "vod",
             "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
             "-hls_segment_filename", str(out_dir / "%v" / "seg_%05d.ts"),
             "-var_stream_map", " ".join(stream_map), "-progress", "pipe:1", "-nostats",
             str(out_dir / "%v" / "index.m3u8")]
    return argv


def transcode_hls(src: Path, out_dir: Path, rungs, *, duration: float, segment_seconds: int,
                  timeout: float, progress: Callable[[float, int | None], None] | None = None,
                  cancel: threading.Event | None = None) -> None:
    """Encode the ladder into out_dir/<rung>/index.m3u8; progress(fraction, eta_seconds)."""
    for rung in rungs:
        (out_dir / rung.name).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def on_line(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and progress and value.lstrip("-").isdigit() and duration > 0:
            fraction = max(0.0, min(1.0, int(value) / 1e6 / duration))
            elapsed = time.monotonic() - started
            eta = int(elapsed / fraction - elapsed) if fraction > 0.01 else None
            progress(fraction, eta)

    run(hls_ladder_argv(src, out_dir, rungs, segment_seconds=segment_seconds),
        timeout=timeout, on_line=on_line, cancel=cancel)


def poster(src: Path, out: Path, *, at_seconds: float, timeout: float = 60) -> None:
    """A JPEG still from `at_seconds` into the video, at most 720 pixels high."""
    run([_binary("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-ss", f"{at_seconds:.2f}", *_input_args(src), "-frames:v", "1",
         "-vf", "scale=-2:'min(720,ih)'", "-q:v", "4", f"file:{out}"], timeout=timeout)


def synthesize(out: Path, *, seconds: float, width: int | None = 640, height: int | None = 360,
               fps: int = 25, audio: bool = True, faststart: bool = False, timeout: float = 120) -> None:
    """Make a test clip from ffmpeg's built-in sources (tests and benchmarks; no input files)."""
    argv = [_binary("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    if width:
        argv += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if width:
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        argv += ["-c:a", "aac", "-b:a", "96k"]
    if faststart:
        argv += ["-movflags", "+faststart"]
    run(argv + ["-shortest", f"file:{out}"], timeout=timeout)
