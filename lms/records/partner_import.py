"""Partner grade import: a CSV from a partner university, previewed, then approved all or nothing.

Columns: student_number, course_code, score, and optionally term (the term's code, e.g.
2026-autumn), which picks the offering when a student is enrolled in two offerings of one course (a
retake); without it the student's only offering of that course is meant. The score is a number from 0 to 100, or a letter of
the course's partner scheme (S/A/B/C/F in the standard bands), which stands for the lowest score of
its band (S → 90, A → 80, B → 70, C → 60, F → 0), since a partner that sends only letters tells us
no more than that. The offering is the one of that course the student is enrolled in.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.catalog.models import Course, Enrollment, Offering, Term
from lms.extensions import db
from lms.people.csv_import import CsvRejected, RowError, read_csv
from lms.records import services
from lms.records.models import FinalResult, ResultState
from lms.records.versions import latest_schemes, scheme_value

COLUMNS = ["student_number", "course_code", "score"]
OPTIONAL_COLUMNS = ["term"]


@dataclass
class ImportRow:
    line: int
    student: User
    offering: Offering
    raw: Decimal
    given: str
    existing: FinalResult | None


def _score(text: str, course: Course, schemes) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        scheme = scheme_value(schemes.get(course.partner_id))
        lows = {letter: low for low, letter in scheme.bands}
        return lows.get(text.upper())
    return value if value.is_finite() and Decimal(0) <= value <= Decimal(100) else None


def check(data: bytes, max_rows: int) -> list[ImportRow]:
    """Every row resolved, or CsvRejected listing each bad row. Writes nothing."""
    rows = read_csv(data, COLUMNS, max_rows)
    students = {u.student_number: u for u in db.session.scalars(select(User).where(
        User.role == Role.STUDENT, User.student_number.in_({r["student_number"] for _l, r in rows})))}
    courses = {c.code: c for c in db.session.scalars(select(Course).where(
        Course.code.in_({r["course_code"] for _l, r in rows})))}
    term_codes = {r.get("term", "") for _l, r in rows} - {""}
    terms = {t.code: t for t in db.session.scalars(select(Term).where(Term.code.in_(term_codes)))} if term_codes else {}
    enrolled: dict[tuple[int, int], list[Offering]] = {}
    if students and courses:
        for student_id, offering in db.session.execute(
                select(Enrollment.student_id, Offering).join(Offering, Enrollment.offering_id == Offering.id)
                .where(Enrollment.student_id.in_([u.id for u in students.values()]),
                       Offering.course_id.in_([c.id for c in courses.values()]))).all():
            enrolled.setdefault((student_id, offering.course_id), []).append(offering)
    results = {(r.student_id, r.offering_id): r for r in db.session.scalars(select(FinalResult).where(
        FinalResult.student_id.in_([u.id for u in students.values()] or [0])))}
    schemes = latest_schemes()
    seen: set[tuple[str, str]] = set()
    errors, out = [], []
    for line, row in rows:
        number, code, term_code = row["student_number"], row["course_code"], row.get("term", "")
        student, course = students.get(number), courses.get(code)
        problems = []
        if term_code and term_code not in terms:
            problems.append(_("no term with code %(t)s", t=term_code))
        if student is None:
            problems.append(_("no student with number %(n)s", n=number))
        if course is None:
            problems.append(_("no course with code %(c)s", c=code))
        if (number, code, term_code) in seen:
            problems.append(_("%(n)s and %(c)s appear twice in the file", n=number, c=code))
        seen.add((number, code, term_code))
        raw = _score(row["score"], course, schemes) if course else None
        if course and raw is None:
            problems.append(_("score must be 0–100 or a letter of the scheme, not “%(s)s”", s=row["score"]))
        offerings = enrolled.get((student.id, course.id), []) if student and course else []
        if term_code in terms:
            offerings = [o for o in offerings if o.term_id == terms[term_code].id]
            if student and course and not offerings:
                problems.append(_("%(n)s is not enrolled in %(c)s in term %(t)s", n=number, c=code, t=term_code))
        elif student and course and not offerings:
            problems.append(_("%(n)s is not enrolled in an offering of %(c)s", n=number, c=code))
        if len(offerings) > 1:
            problems.append(_("%(n)s is enrolled in several offerings of %(c)s: add a term column with the "
                              "term's code", n=number, c=code))
        existing = results.get((student.id, offerings[0].id)) if len(offerings) == 1 else None
        if existing is not None and existing.state == ResultState.FINALIZED:
            problems.append(_("the result of %(n)s in %(c)s is already finalized", n=number, c=code))
        errors += [RowError(line, p) for p in problems]
        if not problems:
            out.append(ImportRow(line, student, offerings[0], services.valid_score(raw), row["score"],
                                 existing))
    if errors:
        raise CsvRejected(errors)
    return out


def approve(data: bytes, max_rows: int, actor_id: int) -> list[FinalResult]:
    """Check the file again and submit every row's result (source partner_import), or none."""
    rows = check(data, max_rows)
    results = [services.put_result(r.offering, r.student.id, r.raw, actor_id, "partner_import", r.existing)
               for r in rows]
    db.session.flush()
    return results
