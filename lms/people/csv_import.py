"""Cohort CSV import: parse and validate every row first, then create all or nothing."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.auth.services import create_user
from lms.catalog.models import Offering, Program
from lms.catalog.services import enroll
from lms.errors import DomainError
from lms.extensions import db

STUDENT_COLUMNS = ["student_number", "name_latin", "name_kana", "email", "program", "cohort_year"]
STUDENT_NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{3,20}$")
KATAKANA_RE = re.compile(r"^[\u30A0-\u30FF\u3000\s・ー]+$")
LATIN_RE = re.compile(r"^[A-Za-zÀ-žʻʼ'’\-. ]+$")


@dataclass
class RowError:
    line: int
    message: str


class CsvRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


def read_csv(data: bytes, required: list[str], max_rows: int) -> list[tuple[int, dict]]:
    """Decode (UTF-8, with or without BOM) and return (line number, row) pairs."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected([RowError(0, _("The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again."))])
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvRejected([RowError(1, _("Missing column(s): %(cols)s. Expected: %(all)s.",
                                         cols=", ".join(missing), all=", ".join(required)))])
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if len(rows) >= max_rows:
                raise CsvRejected([RowError(reader.line_num, _("More than %(n)d rows; split the file.", n=max_rows))])
            clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if any(clean.values()):
                rows.append((reader.line_num, clean))
    except csv.Error as exc:
        raise CsvRejected([RowError(reader.line_num, _("Malformed CSV: %(err)s", err=str(exc)))])
    if not rows:
        raise CsvRejected([RowError(2, _("The file has no data rows."))])
    return rows


def _student_row_errors(row: dict, programs: dict[str, int], seen: dict[str, set]) -> list[str]:
    errors = []
    number, email = row["student_number"], row["email"].lower()
    if not STUDENT_NUMBER_RE.match(number):
        errors.append(_("student_number must be 3–20 letters, digits or dashes"))
    if not row["name_latin"] or len(row["name_latin"]) > 120 or not LATIN_RE.match(row["name_latin"]):
        errors.append(_("name_latin must be 1–120 Latin letters"))
    if row.get("name_kana") and (len(row["name_kana"]) > 120 or not KATAKANA_RE.match(row["name_kana"])):
        errors.append(_("name_kana must be katakana"))
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        errors.append(_("email is not a valid address"))
    if row["program"] not in programs:
        errors.append(_("program %(code)s does not exist", code=row["program"]))
    if not row["cohort_year"].isdecimal() or not 2000 <= int(row["cohort_year"]) <= 2100:
        errors.append(_("cohort_year must be a year such as 2026"))
    for key, value in (("number", number), ("email", email)):
        if value in seen[key]:
            errors.append(_("%(value)s appears twice in the file", value=value))
        seen[key].add(value)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        errors.append(_("a user with email %(email)s already exists", email=email))
    if db.session.scalar(select(User.id).where(User.student_number == number)):
        errors.append(_("student number %(n)s already exists", n=number))
    return errors


def import_students(data: bytes, max_rows: int) -> list[tuple[User, str]]:
    """Create every student in the file, or none. Raises CsvRejected listing each bad row."""
    rows = read_csv(data, STUDENT_COLUMNS, max_rows)
    programs = dict(db.session.execute(select(Program.code, Program.id)).all())
    seen: dict[str, set] = {"number": set(), "email": set()}
    errors = [RowError(line, msg) for line, row in rows
              for msg in _student_row_errors(row, programs, seen)]
    if errors:
        raise CsvRejected(errors)
    return [create_user(email=row["email"], name_latin=row["name_latin"], name_kana=row["name_kana"] or None,
                        role=Role.STUDENT, student_number=row["student_number"],
                        program_id=programs[row["program"]], cohort_year=int(row["cohort_year"]))
            for _line, row in rows]


def find_student(identifier: str) -> User | None:
    identifier = identifier.strip()
    if "@" in identifier:
        return db.session.scalar(select(User).where(func.lower(User.email) == identifier.lower()))
    return db.session.scalar(select(User).where(User.student_number == identifier))


def import_enrollments(offering: Offering, data: bytes, max_rows: int) -> int:
    """Enroll every listed student_number, or none. Already-enrolled students are errors too."""
    rows = read_csv(data, ["student_number"], max_rows)
    errors, students = [], []
    for line, row in rows:
        student = find_student(row["student_number"]) if row["student_number"] else None
        if student is None or student.role != Role.STUDENT:
            errors.append(RowError(line, _("no student with number %(n)s", n=row["student_number"])))
        elif student in students:
            errors.append(RowError(line, _("%(n)s appears twice in the file", n=row["student_number"])))
        else:
            students.append(student)
    if errors:
        raise CsvRejected(errors)
    for (line, _row), student in zip(rows, students):
        try:
            enroll(offering, student)
        except DomainError as exc:
            errors.append(RowError(line, exc.message))
    if errors:
        raise CsvRejected(errors)
    return len(students)
