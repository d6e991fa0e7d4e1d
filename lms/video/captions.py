"""Captions: WebVTT kept as is after validation, SRT converted to WebVTT. Errors name the line."""
from __future__ import annotations

import re

MAX_BYTES = 2 * 1024 * 1024
LANGUAGES = {"ja": "日本語", "uz": "Oʻzbekcha", "ru": "Русский", "en": "English"}
TIMING = re.compile(
    r"^(?P<start>(?:\d{1,2}:)?\d{2}:\d{2}[.,]\d{3})\s+-->\s+(?P<end>(?:\d{1,2}:)?\d{2}:\d{2}[.,]\d{3})(?P<settings>.*)$")


class CaptionError(ValueError):
    pass


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    if len(parts) == 2:
        parts.insert(0, "0")
    hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    if minutes > 59 or seconds >= 60:
        raise CaptionError(f"the time {stamp} is not valid")
    return hours * 3600 + minutes * 60 + seconds


def _stamp(value: float) -> str:
    millis = round(value * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def to_webvtt(data: bytes) -> tuple[str, int]:
    """Return (WebVTT text, cue count) for an SRT or WebVTT file; raises CaptionError."""
    if len(data) > MAX_BYTES:
        raise CaptionError("the file is larger than 2 MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaptionError("the file is not UTF-8 text; save it as UTF-8") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_vtt = lines[0].startswith("WEBVTT")
    cues, index, block = [], 1 if is_vtt else 0, []
    for number, line in enumerate(lines[index:] + [""], start=index + 1):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            cues.append(_cue(block, is_vtt))
            block = []
    cues = [c for c in cues if c]
    if not cues:
        raise CaptionError("no captions found: each cue needs a line like 00:00:01.000 --> 00:00:03.000")
    body = "\n\n".join(f"{_stamp(s)} --> {_stamp(e)}{settings}\n{payload}" for s, e, settings, payload in cues)
    return "WEBVTT\n\n" + body + "\n", len(cues)


def _cue(block: list[tuple[int, str]], is_vtt: bool):
    if is_vtt and block[0][1].startswith(("NOTE", "STYLE", "REGION")):
        return None
    timing_at = next((i for i, (_, line) in enumerate(block) if "-->" in line), None)
    if timing_at is None or timing_at > 1:
        raise CaptionError(f"line {block[0][0]}: expected a timing line like 00:00:01,000 --> 00:00:03,000")
    number, timing = block[timing_at]
    match = TIMING.match(timing.strip())
    if not match:
        raise CaptionError(f"line {number}: the timing line {timing.strip()!r} is not valid")
    start, end = _seconds(match["start"]), _seconds(match["end"])
    if end <= start:
        raise CaptionError(f"line {number}: the cue ends before it starts")
    payload = "\n".join(line for _, line in block[timing_at + 1:])
    if "-->" in payload:
        raise CaptionError(f"line {number}: a cue's text may not contain '-->'")
    settings = match["settings"].rstrip() if is_vtt else ""
    return start, end, settings, payload
