"""Transcripts as CSV, and what every export format is built from (`Transcript`).

Every figure comes from `record.student_record`, the one place that derives them, so the CSV, the
signed CLR (clr.py, issuing.py) and the PDF (exports_pdf.py) of a student cannot disagree. Results
not finalized yet appear only as "pending" rows with no figures counted; totals are the sums of
the finalized lines.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.extensions import db
from lms.records.pause_gc import paused_gc
from lms.records.record import Line, StudentRecord, student_record, student_records

BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r")


@dataclass
class Transcript:
    """A student and their record: what every export format is built from."""

    student: User
    record: StudentRecord


def transcript(student_id: int) -> Transcript:
    return Transcript(db.session.get(User, student_id), student_record(student_id))


def transcripts(student_ids: list[int], batch: int = 200) -> Iterator[Transcript]:
    """A cohort's transcripts, loaded a batch of students at a time (a few queries per batch)."""
    for start in range(0, len(student_ids), batch):
        ids = student_ids[start:start + batch]
        records = student_records(ids)
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
        for student_id in ids:
            yield Transcript(users[student_id], records[student_id])


def cohort_student_ids(program_id: int, cohort_year: int) -> list[int]:
    return list(db.session.scalars(
        select(User.id).where(User.role == Role.STUDENT, User.program_id == program_id,
                              User.cohort_year == cohort_year).order_by(User.student_number, User.id)))


def figure(value: Decimal | int | None) -> str:
    """A figure as registrars write it: no exponent, no trailing zeros past the point ("2", "1.5")."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


# --- CSV -------------------------------------------------------------------------------------------

def row_type(line: Line) -> str:
    if not line.counted:
        return "pending"
    return "recognised" if line.recognised else "result"


CSV_COLUMNS: list[tuple[str, callable]] = [
    ("row_type", lambda t, x: row_type(x)),
    ("student_number", lambda t, x: t.student.student_number or ""),
    ("name_latin", lambda t, x: t.student.name_latin),
    ("name_kana", lambda t, x: t.student.name_kana or ""),
    ("course_code", lambda t, x: x.course_code),
    ("title_en", lambda t, x: x.title_en),
    ("title_ja", lambda t, x: x.title_ja or ""),
    ("term", lambda t, x: x.term_name),
    ("ja_year", lambda t, x: x.ja_year),
    ("ja_semester", lambda t, x: x.ja_semester),
    ("uz_year", lambda t, x: x.uz_year),
    ("uz_semester", lambda t, x: x.uz_semester),
    ("ja_credits", lambda t, x: figure(x.ja_credits)),
    ("raw_score", lambda t, x: figure(x.raw)),
    ("letter", lambda t, x: x.letter or ""),
    ("gpa_points", lambda t, x: figure(x.gpa_points)),
    ("gpa_scale", lambda t, x: figure(x.gpa_scale)),
    ("ja_scheme", lambda t, x: x.ja_scheme),
    ("uz_credits", lambda t, x: figure(x.uz_credits)),
    ("uz_grade", lambda t, x: figure(x.uz_grade)),
    ("uz_score", lambda t, x: figure(x.raw)),
    ("credit_rule", lambda t, x: x.credit_rule),
    ("recognised", lambda t, x: "yes" if x.recognised else "no"),
    ("state", lambda t, x: x.state),
    ("amended", lambda t, x: "yes" if x.amended else "no"),
    ("ja_required", lambda t, x: ""),
    ("uz_required", lambda t, x: ""),
]
CSV_HEADER = [name for name, _ in CSV_COLUMNS]
_STUDENT = ("student_number", "name_latin", "name_kana")


def neutralise(value: object) -> str:
    """Spreadsheets run a cell that starts with = + - @ (or a tab or CR) as a formula: quote it."""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text and text[0] in FORMULA_STARTS else text


def _summary_row(item: Transcript, kind: str, **values) -> list[str]:
    row = dict.fromkeys(CSV_HEADER, "")
    row.update({name: fn(item, None) for name, fn in CSV_COLUMNS if name in _STUDENT}, row_type=kind, **values)
    return [neutralise(row[name]) for name in CSV_HEADER]


def csv_rows(item: Transcript) -> Iterator[list[str]]:
    """A row per result (pending ones marked), then the totals: one "total" row (credits toward both
    degrees, the Uzbek averages) and one "gpa" row per GPA scale. A student with no results yet
    still has the total row."""
    for line in item.record.lines:
        yield [neutralise(fn(item, line)) for _, fn in CSV_COLUMNS]
    t, record = item.record.totals, item.record
    yield _summary_row(item, "total", title_en="Total (finalized results and recognised credits)",
                       ja_credits=figure(t.ja_credits), ja_required=record.ja_required,
                       uz_credits=figure(t.uz_credits), uz_required=record.uz_required,
                       uz_grade=figure(t.uz_average), uz_score=figure(t.uz_score), credit_rule="",
                       recognised=figure(t.ja_recognised))
    for g in t.ja_gpas:
        yield _summary_row(item, "gpa", title_en=f"GPA on the {figure(g.scale)}-point scale",
                           ja_credits=figure(g.credits), gpa_points=figure(g.gpa), gpa_scale=figure(g.scale))


def write_csv(out: TextIO, items: Iterable[Transcript]) -> None:
    """UTF-8 CSV with a BOM (so Excel reads the Japanese titles), one row per course result."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item in items:
        with paused_gc():
            writer.writerows(csv_rows(item))


def student_csv(student_id: int) -> bytes:
    out = io.StringIO()
    write_csv(out, [transcript(student_id)])
    return out.getvalue().encode("utf-8")
