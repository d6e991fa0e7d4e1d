"""Both academic calendars for a term: Japan's year starts in April, Uzbekistan's in September.

A term belongs to the semester where most of its teaching days fall, in each calendar: JDU's
autumn term (September–January) is 後期 of the Japanese year although it starts in September,
which is still 前期; a spring term (February–June) is 前期 of the Japanese year that starts in
April, although February and March belong to the year before. A registrar can set a term's
Japanese year and semester explicitly (Term.ja_year / Term.ja_semester), which then wins.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_HALF, SECOND_HALF = "前期", "後期"
SEMESTERS = (FIRST_HALF, SECOND_HALF)


def japanese_year(day: date) -> int:
    """The Japanese academic year (年度) a day belongs to: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def japanese_semester(day: date) -> str:
    return FIRST_HALF if 4 <= day.month <= 9 else SECOND_HALF


def uzbek_year(day: date) -> str:
    """The Uzbek academic year, September to August, written 2026/2027."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{start + 1}"


def uzbek_semester(day: date) -> int:
    return 1 if day.month >= 9 or day.month == 1 else 2


@dataclass(frozen=True)
class TermCalendar:
    ja_year: int
    ja_semester: str
    uz_year: str
    uz_semester: int


def _most_days(starts_on: date, ends_on: date, key) -> object:
    """The value of `key(day)` shared by most days from starts_on to ends_on (the earlier one on a tie)."""
    counts: Counter = Counter()
    first_seen: dict = {}
    day = starts_on
    while day <= max(starts_on, ends_on):
        value = key(day)
        counts[value] += 1
        first_seen.setdefault(value, day)
        day += timedelta(days=1)
    return max(counts, key=lambda v: (counts[v], -first_seen[v].toordinal()))


def term_calendar(starts_on: date, ends_on: date, *, ja_year: int | None = None,
                  ja_semester: str | None = None) -> TermCalendar:
    """Where a term sits in both calendars, by its teaching days, unless set explicitly."""
    ja_year_auto, ja_semester_auto = _most_days(starts_on, ends_on,
                                                lambda d: (japanese_year(d), japanese_semester(d)))
    uz_year_auto, uz_semester_auto = _most_days(starts_on, ends_on, lambda d: (uzbek_year(d), uzbek_semester(d)))
    return TermCalendar(ja_year if ja_year is not None else ja_year_auto, ja_semester or ja_semester_auto,
                        uz_year_auto, uz_semester_auto)


def of_term(term) -> TermCalendar:
    return term_calendar(term.starts_on, term.ends_on, ja_year=term.ja_year, ja_semester=term.ja_semester)
