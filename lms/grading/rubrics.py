"""Rubrics: criteria × levels with points, reusable across assignments, and the score they give.

A rubric belongs to its owner, who attaches it to any assignment they teach; graders of those
assignments may read and copy it. Once grades were given with it, it is frozen: copy it to change it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import exists, select

from lms.assignments.models import Assignment
from lms.auth.models import User
from lms.errors import Conflict, DomainError, Forbidden
from lms.extensions import db
from lms.grading import permissions
from lms.grading.models import Grade, Rubric, RubricCriterion, RubricLevel
from lms.grading.scores import CENT, HUNDRED, ScoreInvalid


@dataclass
class LevelSpec:
    title: str
    points: Decimal
    description: str = ""


@dataclass
class CriterionSpec:
    title: str
    description: str = ""
    levels: list[LevelSpec] = field(default_factory=list)


def _check_rubric(title: str, criteria: list[CriterionSpec]) -> None:
    if not title.strip():
        raise DomainError(_("Give the rubric a title."))
    if not criteria:
        raise DomainError(_("Add at least one criterion."))
    for criterion in criteria:
        if not criterion.levels:
            raise DomainError(_("Criterion “%(c)s” needs at least one level.", c=criterion.title))
        for level in criterion.levels:
            if not level.points.is_finite() or level.points < 0 or level.points > Decimal("9999.99") \
                    or level.points != level.points.quantize(CENT):
                raise DomainError(_("Points of “%(l)s” must be 0–9999.99 with at most two decimals.",
                                    l=level.title))
    if sum(max(lv.points for lv in c.levels) for c in criteria) <= 0:
        raise DomainError(_("The rubric's best levels must be worth more than 0 points."))


def _fill(rubric: Rubric, criteria: list[CriterionSpec]) -> None:
    rubric.criteria = [
        RubricCriterion(title=c.title.strip(), description=c.description.strip(), position=i,
                        levels=[RubricLevel(title=lv.title.strip(), points=lv.points,
                                            description=lv.description.strip(), position=j)
                                for j, lv in enumerate(c.levels)])
        for i, c in enumerate(criteria)]


def create_rubric(owner: User, title: str, description: str, criteria: list[CriterionSpec]) -> Rubric:
    """Raises Forbidden for non-authors and DomainError for an incomplete rubric."""
    if not permissions.can_author_rubrics(owner):
        raise Forbidden(_("Only instructors create rubrics."))
    _check_rubric(title, criteria)
    rubric = Rubric(owner_id=owner.id, title=title.strip(), description=description.strip())
    _fill(rubric, criteria)
    db.session.add(rubric)
    db.session.flush()
    return rubric


def rubric_in_use(rubric: Rubric) -> bool:
    """Graded with: its levels are part of stored grades, so it is frozen (copy it to change it)."""
    return bool(db.session.scalar(select(exists().where(
        Grade.assignment_id == Assignment.id, Assignment.rubric_id == rubric.id, Grade.raw_score.is_not(None)))))


def update_rubric(rubric: Rubric, actor: User, title: str, description: str,
                  criteria: list[CriterionSpec]) -> Rubric:
    """Replace the rubric's criteria. Raises Forbidden for non-owners, Conflict once graded with."""
    if not permissions.can_edit_rubric(actor, rubric):
        raise Forbidden(_("Only the rubric's owner can edit it."))
    if rubric_in_use(rubric):
        raise Conflict(_("Grades were given with this rubric, so it cannot change. Copy it and edit the copy."))
    _check_rubric(title, criteria)
    rubric.title, rubric.description = title.strip(), description.strip()
    rubric.criteria.clear()
    db.session.flush()  # delete the old rows before the new ones take their positions
    _fill(rubric, criteria)
    db.session.flush()
    return rubric


def rubric_specs(rubric: Rubric) -> list[CriterionSpec]:
    return [CriterionSpec(c.title, c.description, [LevelSpec(lv.title, lv.points, lv.description) for lv in c.levels])
            for c in rubric.criteria]


def copy_rubric(rubric: Rubric, owner: User) -> Rubric:
    """A new rubric owned by `owner` with the same criteria and levels."""
    if not permissions.can_use_rubric(owner, rubric):
        raise Forbidden(_("You cannot copy this rubric."))
    return create_rubric(owner, _("%(title)s (copy)", title=rubric.title)[:200], rubric.description,
                         rubric_specs(rubric))


def attach_rubric(assignment: Assignment, rubric: Rubric | None, actor: User) -> None:
    """Grade `assignment` with `rubric` (None: direct scores only). Raises Conflict once rubric
    levels were chosen for any grade, since those selections name the old rubric's levels."""
    if not permissions.can_manage(actor, assignment):
        raise Forbidden(_("Only the offering's instructors choose its rubrics."))
    if rubric is not None and not permissions.can_edit_rubric(actor, rubric):
        raise Forbidden(_("Attach one of your own rubrics (copy this one first)."))
    if assignment.rubric_id != (rubric.id if rubric else None) and any(
            db.session.scalars(select(Grade.rubric_levels).where(Grade.assignment_id == assignment.id))):
        raise Conflict(_("Grades were given with the current rubric; it can no longer be replaced."))
    assignment.rubric_id = rubric.id if rubric else None
    db.session.flush()


def max_points(rubric: Rubric) -> Decimal:
    return sum((max((lv.points for lv in c.levels), default=Decimal(0)) for c in rubric.criteria), Decimal(0))


def normalise_selections(rubric: Rubric, selections: Mapping) -> dict[str, int]:
    """{criterion id: level id} with one level for every criterion; raises ScoreInvalid otherwise."""
    chosen: dict[str, int] = {}
    try:
        wanted = {int(k): int(v) for k, v in selections.items() if str(v).strip()}
    except (TypeError, ValueError):
        raise ScoreInvalid(_("Choose the rubric's levels again.")) from None
    for criterion in rubric.criteria:
        level_id = wanted.pop(criterion.id, None)
        if level_id is None:
            raise ScoreInvalid(_("Choose a level for “%(c)s”.", c=criterion.title))
        if level_id not in {lv.id for lv in criterion.levels}:
            raise ScoreInvalid(_("Choose the rubric's levels again."))
        chosen[str(criterion.id)] = level_id
    if wanted:
        raise ScoreInvalid(_("Choose the rubric's levels again."))
    return chosen


def score_from_rubric(rubric: Rubric, selections: Mapping) -> Decimal:
    """Σ chosen points ÷ Σ best points per criterion × 100, rounded half-up to 0.01."""
    chosen = normalise_selections(rubric, selections)
    points = {lv.id: lv.points for c in rubric.criteria for lv in c.levels}
    earned = sum((points[level_id] for level_id in chosen.values()), Decimal(0))
    return (earned * HUNDRED / max_points(rubric)).quantize(CENT, ROUND_HALF_UP)
