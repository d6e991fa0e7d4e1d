from datetime import date

import pytest

from lms.records.terms import japanese_semester, japanese_year, term_calendar, uzbek_semester, uzbek_year


@pytest.mark.parametrize("day, ja_year, ja_sem, uz_year, uz_sem", [
    (date(2026, 9, 1), 2026, "前期", "2026/2027", 1),   # JDU's autumn term starts in both calendars' different halves
    (date(2026, 10, 1), 2026, "後期", "2026/2027", 1),
    (date(2027, 1, 31), 2026, "後期", "2026/2027", 1),
    (date(2027, 2, 15), 2026, "後期", "2026/2027", 2),
    (date(2027, 3, 31), 2026, "後期", "2026/2027", 2),
    (date(2027, 4, 1), 2027, "前期", "2026/2027", 2),
    (date(2027, 8, 31), 2027, "前期", "2026/2027", 2),
])
def test_both_calendars(day, ja_year, ja_sem, uz_year, uz_sem):
    assert (japanese_year(day), japanese_semester(day), uzbek_year(day), uzbek_semester(day)) == \
        (ja_year, ja_sem, uz_year, uz_sem)


@pytest.mark.parametrize("starts, ends, expected", [
    # JDU's autumn term starts in 前期 by the day but teaches mostly in 後期
    (date(2026, 9, 1), date(2027, 1, 31), (2026, "後期", "2026/2027", 1)),
    # spring: February and March belong to the Japanese year before, April–June to the new one
    (date(2027, 2, 1), date(2027, 6, 30), (2027, "前期", "2026/2027", 2)),
    (date(2026, 4, 1), date(2026, 7, 31), (2026, "前期", "2025/2026", 2)),
    (date(2026, 10, 1), date(2026, 10, 1), (2026, "後期", "2026/2027", 1)),  # one day
])
def test_a_term_sits_where_most_of_its_teaching_days_fall(starts, ends, expected):
    calendar = term_calendar(starts, ends)
    assert (calendar.ja_year, calendar.ja_semester, calendar.uz_year, calendar.uz_semester) == expected


def test_the_registrar_can_set_the_japanese_semester_explicitly():
    calendar = term_calendar(date(2026, 9, 1), date(2027, 1, 31), ja_year=2026, ja_semester="前期")
    assert (calendar.ja_year, calendar.ja_semester) == (2026, "前期")
    assert calendar.uz_semester == 1
