"""The cohort view: every student of a program and cohort year, with both systems' totals.

Computed in a fixed number of queries whatever the cohort's size. "Behind" is defined against an
even pace: a bachelor's is 8 semesters, the Uzbek academic year starts on 1 September of the cohort
year, and after n completed semesters (each 6 months) a student is expected to hold n/8 of the
degree's credits in each system. A student holding fewer finalized credits than that, in either
system, is behind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.catalog.models import Program
from lms.extensions import db
from lms.records import derive
from lms.records.record import Line, student_records

SEMESTERS = 8
SORT_KEYS = ("number", "name", "ja_credits", "ja_gpa", "uz_credits", "uz_average", "uz_score")


def today() -> date:
    return date.today()


def semesters_completed(cohort_year: int, on: date) -> int:
    """Whole semesters since 1 September of the cohort year, at most 8."""
    months = (on.year - cohort_year) * 12 + on.month - 9
    return max(0, min(SEMESTERS, months // 6))


@dataclass
class CohortRow:
    student: User
    totals: derive.Totals
    expected_ja: Decimal
    expected_uz: Decimal
    lines: list[Line] = field(default_factory=list)

    @property
    def behind(self) -> bool:
        return self.totals.ja_credits < self.expected_ja or self.totals.uz_credits < self.expected_uz

    def sort_value(self, key: str):
        t = self.totals
        values = {"number": self.student.student_number or "", "name": self.student.name_latin,
                  "ja_credits": t.ja_credits, "ja_gpa": t.ja_gpa, "uz_credits": t.uz_credits,
                  "uz_average": t.uz_average, "uz_score": t.uz_score}
        return values[key]


def cohort(program: Program, year: int, *, on: date | None = None, sort: str = "number",
           behind_only: bool = False) -> list[CohortRow]:
    """Rows for the cohort, finalized results only, sorted by `sort` ("-key" descending)."""
    students = list(db.session.scalars(select(User).where(
        User.role == Role.STUDENT, User.program_id == program.id, User.cohort_year == year)))
    records = student_records([s.id for s in students], finalized_only=True)
    done = semesters_completed(year, on or today())
    rows = [CohortRow(s, records[s.id].totals, Decimal(program.ja_credits_required) * done / SEMESTERS,
                      Decimal(program.uz_credits_required) * done / SEMESTERS, records[s.id].lines) for s in students]
    if behind_only:
        rows = [r for r in rows if r.behind]
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        key = "number"
    known = sorted((r for r in rows if r.sort_value(key) is not None), key=lambda r: r.sort_value(key),
                   reverse=sort.startswith("-"))
    return known + [r for r in rows if r.sort_value(key) is None]  # no GPA yet: always last
