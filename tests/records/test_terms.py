from datetime import date

import pytest

from lms.records.terms import japanese_semester, japanese_year, uzbek_semester, uzbek_year


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
