"""A student's record in both systems, with the provenance of every figure.

Final results carry the scheme versions they were finalized with; results still open use the
current versions. The effective raw score of a corrected result is its latest amendment's.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Offering, Program
from lms.extensions import db
from lms.records import derive, terms
from lms.records.models import CreditRule, FinalResult, JapaneseGradeScheme, RecognisedCredit

UZBEK_SCALE = derive.UzbekScale()


def scheme_value(row: JapaneseGradeScheme | None) -> derive.JapaneseScheme:
    if row is None:
        return derive.STANDARD_4
    return derive.JapaneseScheme(
        name=row.name, version=row.version,
        bands=tuple((Decimal(str(low)), letter) for low, letter in row.bands),
        points=tuple((letter, Decimal(str(points))) for letter, points in row.points.items()),
        passing=frozenset(row.passing))


def rule_value(row: CreditRule | None) -> derive.CreditConversion:
    if row is None:
        return derive.BY_WORKLOAD
    return derive.CreditConversion(name=row.name, version=row.version, factor=Decimal(row.factor),
                                   step=Decimal(row.step), mode=row.mode, source=row.source)


def current_scheme(partner_id: int | None) -> JapaneseGradeScheme | None:
    if partner_id is None:
        return None
    return db.session.scalar(select(JapaneseGradeScheme).where(JapaneseGradeScheme.partner_id == partner_id)
                             .order_by(JapaneseGradeScheme.version.desc()).limit(1))


def current_rule(program_id: int | None) -> CreditRule | None:
    if program_id is None:
        return None
    return db.session.scalar(select(CreditRule).where(CreditRule.program_id == program_id)
                             .order_by(CreditRule.version.desc()).limit(1))


def effective_raw(result: FinalResult) -> Decimal:
    return result.amendments[-1].new_raw_score if result.amendments else result.raw_score


@dataclass
class Line:
    """One course result with every derived figure and where it came from."""

    result_id: int | None
    course_code: str
    title_en: str
    title_ja: str | None
    term_name: str
    ja_year: int
    ja_semester: str
    uz_year: str
    uz_semester: int
    ja_credits: Decimal
    raw: Decimal | None
    letter: str | None
    gpa_points: Decimal | None
    uz_credits: Decimal
    uz_grade: int | None
    state: str
    ja_passed: bool = False
    recognised: bool = False
    amended: bool = False
    ja_scheme: str = ""  # "Standard 4-point v1"
    credit_rule: str = ""  # "By workload (45 h / 30 h) v1 ×1.5, source …"
    term_starts_on: date | None = None
    term_ends_on: date | None = None


@dataclass
class StudentRecord:
    student_id: int
    program: Program | None
    lines: list[Line] = field(default_factory=list)
    totals: derive.Totals = field(default_factory=derive.Totals)
    ja_required: int = 124
    uz_required: int = 240


def _line(result: FinalResult, program_rule: CreditRule | None,
          schemes: dict[int | None, JapaneseGradeScheme | None] | None = None) -> Line:
    """`schemes` (partner id → current scheme) spares a query per open result when batching."""
    course, term = result.offering.course, result.offering.term
    scheme_row = result.ja_scheme or (schemes.get(course.partner_id) if schemes is not None
                                      else current_scheme(course.partner_id))
    rule_row = result.credit_rule or program_rule
    scheme, rule = scheme_value(scheme_row), rule_value(rule_row)
    raw = effective_raw(result)
    letter = scheme.letter(raw)
    passed_uz = UZBEK_SCALE.passed(raw)
    return Line(result_id=result.id, course_code=course.code, title_en=course.title_en, title_ja=course.title_ja,
                term_name=term.name, ja_year=terms.japanese_year(term.starts_on),
                ja_semester=terms.japanese_semester(term.starts_on), uz_year=terms.uzbek_year(term.starts_on),
                uz_semester=terms.uzbek_semester(term.starts_on), ja_credits=Decimal(course.credits), raw=raw,
                letter=letter, gpa_points=scheme.gpa_points(letter), ja_passed=letter in scheme.passing,
                uz_credits=rule.convert(course.credits) if passed_uz else Decimal(0),
                uz_grade=UZBEK_SCALE.grade(raw), state=str(result.state), amended=bool(result.amendments),
                ja_scheme=f"{scheme.name} v{scheme.version}", term_starts_on=term.starts_on, term_ends_on=term.ends_on,
                credit_rule=f"{rule.name} v{rule.version} ×{rule.factor.normalize()}"
                            + (f", {rule.source}" if rule.source else ""))


def student_record(student_id: int, *, finalized_only: bool = False) -> StudentRecord:
    return student_records([student_id], finalized_only=finalized_only)[student_id]


def student_records(student_ids: list[int], *, finalized_only: bool = False) -> dict[int, StudentRecord]:
    """Records of many students in a fixed number of queries (a cohort export is one call)."""
    from lms.auth.models import User

    students = db.session.scalars(select(User).where(User.id.in_(student_ids))
                                  .options(selectinload(User.program))).all()
    rules = {program_id: current_rule(program_id) for program_id in {s.program_id for s in students} if program_id}
    schemes = latest_schemes()
    records = {}
    for student in students:
        record = StudentRecord(student_id=student.id, program=student.program)
        if student.program:
            record.ja_required = student.program.ja_credits_required
            record.uz_required = student.program.uz_credits_required
        records[student.id] = record
    query = (select(FinalResult).where(FinalResult.student_id.in_(student_ids))
             .options(selectinload(FinalResult.amendments), selectinload(FinalResult.ja_scheme),
                      selectinload(FinalResult.credit_rule),
                      selectinload(FinalResult.offering).selectinload(Offering.course),
                      selectinload(FinalResult.offering).selectinload(Offering.term)))
    if finalized_only:
        query = query.where(FinalResult.state == "finalized")
    results = sorted(db.session.scalars(query),
                     key=lambda r: (r.offering.term.starts_on, r.offering.course.code))
    by_student = {s.id: s for s in students}
    for result in results:
        rule = rules.get(by_student[result.student_id].program_id)
        records[result.student_id].lines.append(_line(result, rule, schemes))
    for row in db.session.scalars(select(RecognisedCredit).where(RecognisedCredit.student_id.in_(student_ids))):
        records[row.student_id].lines.append(_recognised_line(row))
    for student in students:
        records[student.id].totals = compute_totals(records[student.id].lines,
                                                    rule_value(rules.get(student.program_id)))
    return records


def latest_schemes() -> dict[int, JapaneseGradeScheme]:
    """Partner id → its newest scheme version, in one query."""
    out: dict[int, JapaneseGradeScheme] = {}
    for row in db.session.scalars(select(JapaneseGradeScheme).order_by(JapaneseGradeScheme.version)):
        out[row.partner_id] = row
    return out


def _recognised_line(row: RecognisedCredit) -> Line:
    day = row.approved_at.date()
    return Line(result_id=None, course_code="認定", title_en=row.title, title_ja=None, term_name=row.institution,
                ja_year=terms.japanese_year(day), ja_semester=terms.japanese_semester(day),
                uz_year=terms.uzbek_year(day), uz_semester=terms.uzbek_semester(day),
                ja_credits=Decimal(row.ja_credits), raw=None, letter=None, gpa_points=None, uz_credits=Decimal(0),
                uz_grade=None, state="finalized", recognised=True, term_starts_on=day, term_ends_on=day)


def compute_totals(lines: Iterable[Line], rule: derive.CreditConversion) -> derive.Totals:
    """Totals over lines that already carry their figures (each derived with its own scheme)."""
    return derive.sum_up((derive.Figures(x.course_code, x.ja_credits, x.raw, x.recognised, x.ja_passed,
                                         x.gpa_points, x.uz_credits, x.uz_grade) for x in lines), rule)
