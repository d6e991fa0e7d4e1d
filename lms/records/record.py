"""A student's record in both systems, with the provenance of every figure.

A finalized result shows what its snapshot says (lms/records/snapshot.py): nothing edited later
reaches it. Results still open are derived from the current course, term, scheme and rule, are
marked as such, and never count in totals. The effective raw score of a corrected result is its
latest amendment's, derived with the scheme and rule frozen on the result.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course, Offering, Program
from lms.extensions import db
from lms.records import derive, snapshot, terms
from lms.records.pause_gc import paused_gc
from lms.records.models import (CreditRule, FinalResult, JapaneseGradeScheme, RecognisedCredit, ResultAmendment,
                                ResultState)
from lms.records.versions import current_rule, latest_schemes, rule_label, rule_value, scheme_label, scheme_value

UZBEK_SCALE = derive.UzbekScale()
FINALIZED = str(ResultState.FINALIZED)


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
    gpa_scale: Decimal | None = None  # the top of the GPA scale the points are on
    recognised_id: int | None = None
    partner_name: str | None = None
    skills: list = field(default_factory=list)
    amended_at: datetime | None = None  # the latest amendment
    amended_reason: str | None = None
    finalized_at: datetime | None = None

    @property
    def counted(self) -> bool:
        """Only finalized results (and approved 認定) count in totals."""
        return self.state == FINALIZED


@dataclass
class StudentRecord:
    student_id: int
    program: Program | None
    lines: list[Line] = field(default_factory=list)
    totals: derive.Totals = field(default_factory=derive.Totals)
    ja_required: int = 124
    uz_required: int = 240
    credit_rule: derive.CreditConversion = derive.BY_WORKLOAD  # the program's rule in force now

    @property
    def counted_lines(self) -> list[Line]:
        return [x for x in self.lines if x.counted]

    @property
    def pending_lines(self) -> list[Line]:
        return [x for x in self.lines if not x.counted]


def _amendment_fields(result: FinalResult) -> dict:
    if not result.amendments:
        return {}
    latest = result.amendments[-1]
    return {"amended": True, "amended_at": latest.at, "amended_reason": latest.reason}


def _stored_figures(frozen: dict) -> derive.Figures:
    f, credits = frozen["figures"], Decimal(frozen["course"]["credits"])
    return derive.Figures(frozen["course"]["code"], credits, Decimal(f["raw"]), False, f["ja_passed"],
                          Decimal(f["gpa_points"]), Decimal(f["uz_credits"]), f["uz_grade"], Decimal(f["gpa_scale"]))


def _frozen_line(result: "_FrozenRow", versions: dict) -> Line:
    """`versions`: ("scheme" | "rule", id) → row, for amended results, whose score is derived again
    with the scheme and rule versions the result was finalized with (rows that can no longer change)."""
    frozen = result.frozen
    course, term, partner = frozen["course"], frozen["term"], frozen["partner"]
    raw = effective_raw(result)
    if result.amendments:
        scheme = scheme_value(versions.get(("scheme", frozen["ja_scheme"]["id"])))
        rule = rule_value(versions.get(("rule", frozen["credit_rule"]["id"])))
        fig = derive.figures(derive.ResultLine(Decimal(course["credits"]), raw), scheme,
                             snapshot.uz_scale_of(frozen), rule)
        letter = scheme.letter(raw)
    else:
        fig, letter = _stored_figures(frozen), frozen["figures"]["letter"]
    starts, ends = snapshot.term_dates(frozen)
    return Line(result_id=result.id, course_code=course["code"], title_en=course["title_en"],
                title_ja=course["title_ja"], term_name=term["name"], ja_year=term["ja_year"],
                ja_semester=term["ja_semester"], uz_year=term["uz_year"], uz_semester=term["uz_semester"],
                ja_credits=fig.ja_credits, raw=raw, letter=letter, gpa_points=fig.gpa_points,
                uz_credits=fig.uz_credits, uz_grade=fig.uz_grade, state=FINALIZED, ja_passed=fig.ja_passed,
                ja_scheme=frozen["ja_scheme"]["label"], credit_rule=frozen["credit_rule"]["label"],
                term_starts_on=starts, term_ends_on=ends, gpa_scale=fig.gpa_scale,
                partner_name=partner and partner["name_en"], skills=course.get("skills", []),
                finalized_at=result.finalized_at, **_amendment_fields(result))


def _versions_of(results: list) -> dict:
    """The scheme and rule rows amended results need, in two queries."""
    amended = [r.frozen for r in results if r.frozen is not None and r.amendments]
    out: dict = {}
    for kind, model, key in (("scheme", JapaneseGradeScheme, "ja_scheme"), ("rule", CreditRule, "credit_rule")):
        ids = {f[key]["id"] for f in amended} - {None}
        if ids:
            out.update({(kind, row.id): row for row in db.session.scalars(select(model).where(model.id.in_(ids)))})
    return out


def _open_line(result: FinalResult, scheme_row: JapaneseGradeScheme | None, rule_row: CreditRule | None) -> Line:
    """A result not finalized yet, derived with what is in force now: shown as pending, never counted."""
    course, term = result.offering.course, result.offering.term
    scheme, rule = scheme_value(scheme_row), rule_value(rule_row)
    raw = effective_raw(result)
    credits = Decimal(course.credits)
    fig = derive.figures(derive.ResultLine(credits, raw), scheme, UZBEK_SCALE, rule)
    calendar = terms.of_term(term)
    return Line(result_id=result.id, course_code=course.code, title_en=course.title_en, title_ja=course.title_ja,
                term_name=term.name, ja_year=calendar.ja_year, ja_semester=calendar.ja_semester,
                uz_year=calendar.uz_year, uz_semester=calendar.uz_semester, ja_credits=credits, raw=raw,
                letter=scheme.letter(raw), gpa_points=fig.gpa_points, uz_credits=fig.uz_credits,
                uz_grade=fig.uz_grade, state=str(result.state), ja_passed=fig.ja_passed,
                ja_scheme=scheme_label(scheme), credit_rule=rule_label(rule), term_starts_on=term.starts_on,
                term_ends_on=term.ends_on, gpa_scale=fig.gpa_scale,
                partner_name=course.partner.name_en if course.partner else None, skills=list(course.skills or []))


def student_record(student_id: int, *, finalized_only: bool = False) -> StudentRecord:
    return student_records([student_id], finalized_only=finalized_only)[student_id]


@dataclass
class _FrozenRow:
    """A finalized result's columns without an ORM object: a cohort reads tens of thousands."""

    id: int
    student_id: int
    raw_score: Decimal
    frozen: dict
    finalized_at: datetime | None
    amendments: list = field(default_factory=list)


def _frozen_results(student_ids: list[int]) -> list[_FrozenRow]:
    rows = [_FrozenRow(*r) for r in db.session.execute(
        select(FinalResult.id, FinalResult.student_id, FinalResult.raw_score, FinalResult.frozen,
               FinalResult.finalized_at)
        .where(FinalResult.student_id.in_(student_ids), FinalResult.frozen.is_not(None)))]
    by_id = {r.id: r for r in rows}
    for amendment in db.session.scalars(
            select(ResultAmendment).join(FinalResult, FinalResult.id == ResultAmendment.result_id)
            .where(FinalResult.student_id.in_(student_ids)).order_by(ResultAmendment.at, ResultAmendment.id)):
        if amendment.result_id in by_id:
            by_id[amendment.result_id].amendments.append(amendment)
    return rows


def student_records(student_ids: list[int], *, finalized_only: bool = False) -> dict[int, StudentRecord]:
    """Records of many students in a fixed number of queries (a cohort export is one call)."""
    with paused_gc():
        return _student_records(student_ids, finalized_only)


def _student_records(student_ids: list[int], finalized_only: bool) -> dict[int, StudentRecord]:
    from lms.auth.models import User

    if len(student_ids) == 1:  # one's own record page: the user is already loaded for the request
        students = [s for s in [db.session.get(User, student_ids[0])] if s is not None]
    else:
        students = db.session.scalars(select(User).where(User.id.in_(student_ids))
                                      .options(selectinload(User.program))).all()
    rules = {program_id: current_rule(program_id) for program_id in {s.program_id for s in students} if program_id}
    records = {}
    for student in students:
        record = StudentRecord(student_id=student.id, program=student.program,
                               credit_rule=rule_value(rules.get(student.program_id)))
        if student.program:
            record.ja_required = student.program.ja_credits_required
            record.uz_required = student.program.uz_credits_required
        records[student.id] = record
    results = _frozen_results(student_ids)
    open_query = select(FinalResult).where(FinalResult.student_id.in_(student_ids), FinalResult.frozen.is_(None)) \
        .options(selectinload(FinalResult.amendments),
                 selectinload(FinalResult.offering).selectinload(Offering.course).selectinload(Course.partner),
                 selectinload(FinalResult.offering).selectinload(Offering.term))
    if finalized_only:
        open_query = open_query.where(FinalResult.state == FINALIZED)
    open_results = db.session.scalars(open_query).all()  # only these need the live course and term
    results += open_results
    schemes = latest_schemes() if open_results else {}
    by_student = {s.id: s for s in students}
    versions = _versions_of(results)
    lines: list[tuple[int, Line]] = []
    for result in results:
        if result.frozen is not None:
            line = _frozen_line(result, versions)
        else:
            line = _open_line(result, schemes.get(result.offering.course.partner_id),
                              rules.get(by_student[result.student_id].program_id))
        lines.append((result.student_id, line))
    for student_id, line in sorted(lines, key=lambda x: (x[1].term_starts_on, x[1].course_code)):
        records[student_id].lines.append(line)
    for row in db.session.scalars(select(RecognisedCredit).where(RecognisedCredit.student_id.in_(student_ids))
                                  .options(selectinload(RecognisedCredit.credit_rule))
                                  .order_by(RecognisedCredit.approved_at, RecognisedCredit.id)):
        records[row.student_id].lines.append(_recognised_line(row))
    for record in records.values():
        record.totals = compute_totals(record.lines)
    return records


def _recognised_line(row: RecognisedCredit) -> Line:
    day = row.approved_at.date()
    rule = row.credit_rule
    how = (rule_label(rule_value(rule)) + (f", 認定 ×{Decimal(rule.recognised_factor).normalize()}"
                                          if rule.recognised_factor is not None else ", 認定 ×0")) if rule else ""
    return Line(result_id=None, course_code="認定", title_en=row.title, title_ja=None, term_name=row.institution,
                ja_year=terms.japanese_year(day), ja_semester=terms.japanese_semester(day),
                uz_year=terms.uzbek_year(day), uz_semester=terms.uzbek_semester(day),
                ja_credits=Decimal(row.ja_credits), raw=None, letter=None, gpa_points=None,
                uz_credits=Decimal(row.uz_credits), uz_grade=None, state=FINALIZED, recognised=True,
                credit_rule=how, term_starts_on=day, term_ends_on=day, recognised_id=row.id,
                finalized_at=row.approved_at)


def compute_totals(lines: Iterable[Line]) -> derive.Totals:
    """Totals over the lines that count (finalized results and 認定), each figure the sum of its lines."""
    return derive.sum_up(derive.Figures(x.course_code, x.ja_credits, x.raw, x.recognised, x.ja_passed,
                                        x.gpa_points, x.uz_credits, x.uz_grade, x.gpa_scale)
                         for x in lines if x.counted)
