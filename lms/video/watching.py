"""Unique seconds watched: intervals reported by the player, merged on the server.

Seeking to the end adds only the seconds actually played around it, so it cannot complete a lesson.
"""
from __future__ import annotations

COMPLETION_SHARE = 0.9
MAX_INTERVALS_PER_REPORT = 200


def clean_intervals(raw, duration: float) -> list[list[float]]:
    """Keep well-formed [start, end] pairs inside the video; drop anything else."""
    cleaned = []
    if not isinstance(raw, list):
        return cleaned
    for item in raw[:MAX_INTERVALS_PER_REPORT]:
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            continue
        try:
            start, end = float(item[0]), float(item[1])
        except (TypeError, ValueError):
            continue
        if start != start or end != end:  # NaN
            continue
        start, end = max(0.0, start), min(duration, end)
        if end > start:
            cleaned.append([round(start, 2), round(end, 2)])
    return cleaned


def merge(intervals: list[list[float]]) -> list[list[float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 0.05:  # touching reports join; gaps stay gaps
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def total(intervals: list[list[float]]) -> float:
    return round(sum(end - start for start, end in intervals), 2)


def is_complete(watched_seconds: float, duration: float | None) -> bool:
    return bool(duration) and watched_seconds >= COMPLETION_SHARE * duration
