"""Both academic calendars for a term: Japan's year starts in April, Uzbekistan's in September."""
from __future__ import annotations

from datetime import date


def japanese_year(day: date) -> int:
    """The Japanese academic year (年度) a day belongs to: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def japanese_semester(day: date) -> str:
    return "前期" if 4 <= day.month <= 9 else "後期"


def uzbek_year(day: date) -> str:
    """The Uzbek academic year, September to August, written 2026/2027."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{start + 1}"


def uzbek_semester(day: date) -> int:
    return 1 if day.month >= 9 or day.month == 1 else 2
