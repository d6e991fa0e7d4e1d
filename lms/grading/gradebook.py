"""The gradebook: students × assignments, the weighted course score, CSV out and in, bulk actions.

The course score (a running figure, also what the records issue reads as the final result):
  1. Each graded item counts with its final score (raw score after the late penalty, 0–100).
     Items not graded yet do not count; a missing submission counts once a grader enters 0.
  2. Within a category, items are averaged with equal weight (a percent average).
  3. Categories are combined by their weights, normalised over the categories in which the student
     has at least one graded item: Σ(average × weight) ÷ Σ(weight). Weights need not add up to 100.
  4. Assignments without a category form an "Uncategorised" bucket whose weight is what the
     categories leave of 100 (100 − Σ weights, never below 0); with no categories at all, it is 100.
     A bucket with weight 0 never counts; when no bucket counts the score is empty.
  5. The result is rounded half-up to 0.01 once, at the end.
The gradebook is built with a fixed number of queries whatever the number of students and
assignments (5), so its page renders in constant queries.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from lms.assignments.models import Assignment, Extension, GradeCategory, Submission
from lms.auth.models import User
from lms.catalog.models import Enrollment, Offering
from lms.errors import DomainError, Forbidden
from lms.extensions import db
from lms.grading import permissions, services
from lms.grading.models import Grade
from lms.grading.scores import CENT, HUNDRED, ScoreInvalid, apply_penalty, parse_score
from lms.people.csv_import import CsvRejected, RowError, read_csv


@dataclass
class Bucket:
    category_id: int | None  # None: the Uncategorised bucket
    name: str
    weight: Decimal
    assignment_ids: list[int] = field(default_factory=list)


@dataclass
class Cell:
    raw: Decimal | None
    penalty: Decimal
    final: Decimal | None
    overridden: bool = False
    submitted: bool = False


@dataclass
class Row:
    student_id: int
    student_number: str | None
    name_latin: str
    name_kana: str | None
    cells: list[Cell | None]
    course_score: Decimal | None


@dataclass
class Gradebook:
    offering: Offering
    buckets: list[Bucket]
    assignments: list[Assignment]
    rows: list[Row]
    categories: list[GradeCategory] = field(default_factory=list)  # the offering's, in order


def weighted_score(finals: dict[int, Decimal], buckets: list[Bucket]) -> Decimal | None:
    """The course score from one student's final scores by assignment id (see the module docstring)."""
    total, weights = Decimal(0), Decimal(0)
    for bucket in buckets:
        graded = [finals[aid] for aid in bucket.assignment_ids if aid in finals]
        if graded and bucket.weight > 0:
            total += sum(graded, Decimal(0)) / len(graded) * bucket.weight
            weights += bucket.weight
    return (total / weights).quantize(CENT, ROUND_HALF_UP) if weights else None


def _categories(offering_id: int) -> list[GradeCategory]:
    return list(db.session.scalars(select(GradeCategory).where(GradeCategory.offering_id == offering_id)
                                   .order_by(GradeCategory.position, GradeCategory.name)))


def _buckets(categories: list[GradeCategory], assignments: list[Assignment]) -> list[Bucket]:
    buckets = {c.id: Bucket(c.id, c.name, Decimal(c.weight)) for c in categories}
    rest = max(HUNDRED - sum((b.weight for b in buckets.values()), Decimal(0)), Decimal(0))
    buckets[None] = Bucket(None, _("Uncategorised"), rest)
    for assignment in assignments:
        buckets.get(assignment.category_id, buckets[None]).assignment_ids.append(assignment.id)
    return [b for b in buckets.values() if b.assignment_ids]


def build(offering: Offering, released_only: bool = False) -> Gradebook:
    """Every enrolled student (by student number) × every assignment (by category and due date)."""
    assignments = list(db.session.scalars(select(Assignment).where(Assignment.offering_id == offering.id)
                                          .order_by(Assignment.due_at, Assignment.id)))
    categories = _categories(offering.id)
    buckets = _buckets(categories, assignments)
    order = {aid: i for i, aid in enumerate(aid for b in buckets for aid in b.assignment_ids)}
    assignments.sort(key=lambda a: order[a.id])
    by_id = {a.id: a for a in assignments}
    students = db.session.execute(
        select(User.id, User.student_number, User.name_latin, User.name_kana).join(
            Enrollment, Enrollment.student_id == User.id).where(Enrollment.offering_id == offering.id)
        .order_by(User.student_number, User.id)).all()
    grades = db.session.execute(
        select(Grade.student_id, Grade.assignment_id, Grade.raw_score, Grade.penalty_percent,
               Grade.penalty_overridden).join(Assignment, Assignment.id == Grade.assignment_id)
        .where(Assignment.offering_id == offering.id, Grade.raw_score.is_not(None))).all()
    submitted = {(student_id, assignment_id) for student_id, assignment_id in db.session.execute(
        select(Submission.student_id, Submission.assignment_id)  # plain tuples: Rows in a set compare slowly
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.offering_id == offering.id).distinct())}
    cells: dict[tuple[int, int], Cell] = {}
    for student_id, assignment_id, raw, penalty, overridden in grades:
        assignment = by_id[assignment_id]
        if released_only and assignment.released_at is None:
            continue
        cells[student_id, assignment_id] = Cell(raw, penalty, apply_penalty(raw, penalty, assignment.floor_percent),
                                                overridden, (student_id, assignment_id) in submitted)
    rows = []
    ids = [a.id for a in assignments]  # read once: an ORM attribute costs ~1 us, a cohort has thousands of cells
    for student_id, number, name_latin, name_kana in students:
        row_cells = [cells.get((student_id, aid)) or
                     (Cell(None, Decimal(0), None, submitted=True) if (student_id, aid) in submitted else None)
                     for aid in ids]
        finals = {aid: c.final for aid, c in zip(ids, row_cells) if c is not None and c.final is not None}
        rows.append(Row(student_id, number, name_latin, name_kana, row_cells,
                        weighted_score(finals, buckets) if finals else None))
    return Gradebook(offering, buckets, assignments, rows, categories)


def course_scores(offering: Offering, released_only: bool = False) -> dict[int, Decimal | None]:
    """Student id → course score, for the records issue (final results)."""
    return {row.student_id: row.course_score for row in build(offering, released_only).rows}


# --- CSV export ----------------------------------------------------------------------------------

def neutralise(value) -> str:
    """A spreadsheet runs a cell starting with = + - @ (or tab/CR) as a formula: make it text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(book: Gradebook) -> bytes:
    """UTF-8 with a BOM (Excel reads Japanese names right), one row per student, final scores."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in ["student_number", "name_latin", "name_kana",
                                             *[a.title for a in book.assignments], "course_score"]])
    for row in book.rows:
        writer.writerow([neutralise(v) for v in [
            row.student_number, row.name_latin, row.name_kana,
            *[c.final if c is not None and c.final is not None else "" for c in row.cells],
            row.course_score if row.course_score is not None else ""]])
    return out.getvalue().encode("utf-8-sig")


# --- CSV import of one assignment's scores -------------------------------------------------------

IMPORT_COLUMNS = ["student_number", "score"]  # and an optional "comment"


@dataclass
class ImportRow:
    line: int
    student_number: str
    name: str = ""
    student_id: int | None = None
    old: Decimal | None = None
    new: Decimal | None = None
    comment: str | None = None  # None: keep the grade's comment
    old_comment: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new != self.old or (self.comment is not None and self.comment != self.old_comment)


@dataclass
class ImportPreview:
    rows: list[ImportRow]

    @property
    def errors(self) -> list[RowError]:
        return [RowError(r.line, f"{r.student_number}: {msg}" if r.student_number else msg)
                for r in self.rows for msg in r.errors]

    @property
    def changes(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.errors and r.changed]


def preview_import(assignment: Assignment, data: bytes, max_rows: int) -> ImportPreview:
    """Parse and check every row; writes nothing. Raises CsvRejected for an unreadable file."""
    parsed = read_csv(data, IMPORT_COLUMNS, max_rows)
    enrolled = {number: (sid, name) for sid, number, name in db.session.execute(
        select(User.id, User.student_number, User.name_latin).join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.offering_id == assignment.offering_id))}
    current = {sid: (raw, comment) for sid, raw, comment in db.session.execute(
        select(Grade.student_id, Grade.raw_score, Grade.comment).where(Grade.assignment_id == assignment.id))}
    rows, seen = [], set()
    for line, values in parsed:
        row = ImportRow(line, values["student_number"], comment=values.get("comment") or None)
        if row.student_number in seen:
            row.errors.append(_("appears twice in the file"))
        seen.add(row.student_number)
        if row.student_number not in enrolled:
            row.errors.append(_("no student with this number is enrolled in the offering"))
        else:
            row.student_id, row.name = enrolled[row.student_number]
            row.old, row.old_comment = current.get(row.student_id, (None, ""))
        try:
            row.new = parse_score(values["score"]) if values["score"] else None
            if row.new is None:
                row.errors.append(_("the score is empty (delete the row to leave the grade as it is)"))
        except ScoreInvalid as exc:
            row.errors.append(exc.message)
        rows.append(row)
    return ImportPreview(rows)


def apply_import(assignment: Assignment, actor: User, data: bytes, max_rows: int, reason: str = "") -> int:
    """Write every changed score, or nothing when any row is wrong (raises CsvRejected listing them).
    Each change is audited as "import". Returns how many grades changed."""
    if not permissions.can_grade(actor, assignment):
        raise Forbidden(_("You may not change grades of this assignment."))
    preview = preview_import(assignment, data, max_rows)
    if preview.errors:
        raise CsvRejected(preview.errors)
    changes = preview.changes
    ids = [r.student_id for r in changes]
    grades = {g.student_id: g for g in db.session.scalars(select(Grade).where(
        Grade.assignment_id == assignment.id, Grade.student_id.in_(ids)))} if ids else {}
    latest: dict[int, Submission] = {}
    if ids:
        for submission in db.session.scalars(select(Submission).where(
                Submission.assignment_id == assignment.id, Submission.student_id.in_(ids))
                .order_by(Submission.attempt)):
            latest[submission.student_id] = submission
    for row in changes:
        grade = grades.get(row.student_id)
        comment = row.comment if row.comment is not None else (grade.comment if grade else "")
        services.write_grade(grade, assignment, row.student_id, actor, row.new, {}, comment,
                             latest.get(row.student_id), action="import", reason=reason or _("CSV import"))
    return len(changes)


# --- category weights ----------------------------------------------------------------------------

def set_weights(offering: Offering, actor: User, weights: dict[int, str]) -> None:
    """Set each category's weight (0–100, two decimals; they need not add up to 100). Raises
    Forbidden (not an instructor), DomainError (a category of another offering) and ScoreInvalid."""
    if not permissions.can_manage_offering(actor, offering):
        raise Forbidden(_("Only the offering's instructors set category weights."))
    categories = {c.id: c for c in db.session.scalars(select(GradeCategory).where(
        GradeCategory.offering_id == offering.id))}
    if not set(weights) <= set(categories):
        raise DomainError(_("That category belongs to another offering."))
    for category_id, value in weights.items():
        category = categories[category_id]
        category.weight = parse_score(value, _("The weight of “%(name)s”", name=category.name))
    db.session.flush()


# --- bulk actions --------------------------------------------------------------------------------

def bulk_release(offering: Offering, assignment_ids: list[int], actor: User) -> int:
    """Release each listed, not yet released assignment of the offering; returns how many were."""
    if not permissions.can_manage_offering(actor, offering):
        raise Forbidden(_("Only the offering's instructors release grades."))
    assignments = db.session.scalars(select(Assignment).where(
        Assignment.offering_id == offering.id, Assignment.id.in_(assignment_ids or [-1]),
        Assignment.released_at.is_(None))).all()
    for assignment in assignments:
        services.release(assignment, actor)
    return len(assignments)


def bulk_extend(assignment: Assignment, student_ids: list[int], due_at: datetime, cutoff_at: datetime | None,
                reason: str, actor: User) -> int:
    """Give the listed students a later due date (and cut-off) for one assignment, replacing earlier
    extensions. Penalties already stored on submissions are not recomputed (a grader can override
    them). Raises Forbidden and DomainError."""
    if not permissions.can_manage(actor, assignment):
        raise Forbidden(_("Only the offering's instructors grant extensions."))
    if not student_ids:
        raise DomainError(_("Choose at least one student."))
    if not (reason or "").strip():
        raise DomainError(_("Give a reason for the extension."))
    if due_at <= assignment.due_at:
        raise DomainError(_("The new due date must be after the assignment's due date."))
    if cutoff_at is not None and cutoff_at < due_at:
        raise DomainError(_("The cut-off cannot be before the new due date."))
    enrolled = set(db.session.scalars(select(Enrollment.student_id).where(
        Enrollment.offering_id == assignment.offering_id, Enrollment.student_id.in_(student_ids))))
    if enrolled != set(student_ids):
        raise DomainError(_("Some of the chosen students are not enrolled in this offering."))
    existing = {e.student_id: e for e in db.session.scalars(select(Extension).where(
        Extension.assignment_id == assignment.id, Extension.student_id.in_(student_ids)))}
    for student_id in enrolled:
        extension = existing.get(student_id) or Extension(assignment_id=assignment.id, student_id=student_id)
        extension.due_at, extension.cutoff_at = due_at, cutoff_at
        extension.reason, extension.granted_by_id = reason.strip(), actor.id
        db.session.add(extension)
    db.session.flush()
    return len(enrolled)
