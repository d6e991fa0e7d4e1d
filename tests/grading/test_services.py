"""Scores, rubrics, saving grades with their audit rows, penalties, release and rollback."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, select, text

from lms.errors import Conflict, DomainError, Forbidden
from lms.extensions import db
from lms.grading import services
from lms.grading.models import Grade, GradeAudit
from lms.grading.rubrics import CriterionSpec, LevelSpec
from lms.grading.scores import ScoreInvalid, apply_penalty, parse_score
from tests.grading.conftest import make_assignment, make_submission

D = Decimal


def rubric_of(owner, *criteria):
    """criteria: lists of level points, e.g. [4, 3, 1], [2.5, 0]."""
    specs = [CriterionSpec(f"Criterion {i}", "", [LevelSpec(f"L{p}", D(str(p))) for p in points])
             for i, points in enumerate(criteria)]
    rubric = services.create_rubric(owner, "Walk cycle rubric", "", specs)
    db.session.commit()
    return rubric


def pick(rubric, *points):
    """Selections choosing, per criterion, the level worth `points`."""
    return {str(c.id): next(lv.id for lv in c.levels if lv.points == D(str(p)))
            for c, p in zip(rubric.criteria, points)}


def audits(action=None):
    query = select(GradeAudit).order_by(GradeAudit.id)
    if action:
        query = query.where(GradeAudit.action == action)
    return db.session.scalars(query).all()


@pytest.mark.parametrize("typed, stored", [("0", "0.00"), ("100", "100.00"), ("87.5", "87.50"),
                                           ("99.99", "99.99"), (" 42,25 ", "42.25"), ("7", "7.00")])
def test_scores_parse_exactly(typed, stored):
    assert str(parse_score(typed)) == stored


@pytest.mark.parametrize("typed", ["100.001", "-1", "101", "100.01", "abc", "", "1e2", "NaN", "Infinity", "12.345"])
def test_scores_out_of_bounds_are_refused(typed):
    with pytest.raises(ScoreInvalid):
        parse_score(typed)


def test_rubric_score_is_an_exact_decimal(app, world):
    rubric = rubric_of(world.instructor, [4, 3, 1], [4, 2, 0], [4, 1])
    assert services.max_points(rubric) == D(12)
    assert services.score_from_rubric(rubric, pick(rubric, 4, 4, 4)) == D("100.00")
    assert services.score_from_rubric(rubric, pick(rubric, 3, 2, 1)) == D("50.00")
    # 7/12 = 58.333… → 58.33; 2/12 = 16.666… → 16.67 (half-up)
    assert services.score_from_rubric(rubric, pick(rubric, 1, 2, 4)) == D("58.33")
    assert services.score_from_rubric(rubric, pick(rubric, 1, 0, 1)) == D("16.67")
    odd = rubric_of(world.instructor, [D("2.5"), 0], [D("0.5"), 0])
    assert services.score_from_rubric(odd, pick(odd, "2.5", 0)) == D("83.33")
    assert services.score_from_rubric(odd, pick(odd, 0, "0.5")) == D("16.67")


def test_rubric_needs_a_level_for_every_criterion(app, world):
    rubric = rubric_of(world.instructor, [4, 0], [2, 0])
    partial = dict(list(pick(rubric, 4, 2).items())[:1])
    with pytest.raises(ScoreInvalid, match="Choose a level"):
        services.score_from_rubric(rubric, partial)
    other = rubric_of(world.instructor, [1])
    with pytest.raises(ScoreInvalid):  # a level of another rubric
        services.score_from_rubric(rubric, {str(rubric.criteria[0].id): other.criteria[0].levels[0].id,
                                            str(rubric.criteria[1].id): rubric.criteria[1].levels[0].id})


def test_rubric_edit_copy_and_freeze(app, world, assignment):
    rubric = rubric_of(world.instructor, [4, 0])
    with pytest.raises(Forbidden):
        services.update_rubric(rubric, world.other_instructor, "X", "", services.rubric_specs(rubric))
    services.update_rubric(rubric, world.instructor, "Renamed", "", [CriterionSpec("Only", "", [LevelSpec("A", D(10))])])
    db.session.commit()
    assert rubric.title == "Renamed" and [c.title for c in rubric.criteria] == ["Only"]
    services.attach_rubric(assignment, rubric, world.instructor)
    services.save_grade(assignment, world.student, world.instructor, selections=pick(rubric, 10))
    db.session.commit()
    with pytest.raises(Conflict):
        services.update_rubric(rubric, world.instructor, "Again", "", services.rubric_specs(rubric))
    copy = services.copy_rubric(rubric, world.assistant)  # a grader of an assignment using it
    assert copy.owner_id == world.assistant.id and copy.criteria[0].levels[0].points == D(10)


def test_final_score_and_the_floor():
    assert apply_penalty(D("80.00"), D("0"), D("50")) == D("80.00")
    assert apply_penalty(D("80.00"), D("10"), D("0")) == D("72.00")
    assert apply_penalty(D("80.00"), D("50"), D("60")) == D("60.00")  # the floor stops the penalty
    assert apply_penalty(D("40.00"), D("50"), D("60")) == D("40.00")  # but never lifts what was earned
    assert apply_penalty(D("40.00"), D("0"), D("60")) == D("40.00")   # no penalty: raw stands
    assert apply_penalty(D("100.00"), D("100"), D("0")) == D("0.00")
    assert apply_penalty(D("66.67"), D("15"), D("0")) == D("56.67")   # 56.6695 → 56.67


def test_final_score_of_a_grade_uses_the_assignment_floor(app, world):
    assignment = make_assignment(world.offering, floor_percent=D("30"))
    make_submission(assignment, world.student, late_seconds=86400 * 9, penalty_percent=D("90"))
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="90")
    db.session.commit()
    assert grade.penalty_percent == D("90.00")
    assert services.final_score(grade) == D("30.00")


def test_create_and_edit_are_audited(app, world, assignment):
    submission = make_submission(assignment, world.student, penalty_percent=D("10"), late_seconds=3600)
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="80", comment="Good")
    db.session.commit()
    assert (grade.raw_score, grade.penalty_percent, grade.submission_id) == (D("80.00"), D("10.00"), submission.id)
    assert services.final_score(grade) == D("72.00")
    services.save_grade(assignment, world.student, world.assistant, raw_score="85.5", comment="Good", reason="Regraded",
                        expected_version=grade.version)
    db.session.commit()
    create, edit = audits()
    assert (create.action, create.old, create.new["raw_score"]) == ("create", None, "80.00")
    assert create.actor_id == world.instructor.id
    assert (edit.action, edit.old["raw_score"], edit.new["raw_score"]) == ("edit", "80.00", "85.50")
    assert edit.reason == "Regraded"
    assert edit.grade_id == grade.id and edit.actor_id == world.assistant.id and edit.at is not None
    # saving the same values again changes nothing and writes no audit row
    services.save_grade(assignment, world.student, world.instructor, raw_score="85.50", comment="Good")
    db.session.commit()
    assert len(audits()) == 2


def test_only_this_offerings_staff_grade(app, world, assignment):
    with pytest.raises(Forbidden):
        services.save_grade(assignment, world.student, world.other_instructor, raw_score="50")
    with pytest.raises(Forbidden):
        services.save_grade(assignment, world.student, world.registrar, raw_score="50")
    with pytest.raises(DomainError, match="not enrolled"):
        services.save_grade(assignment, world.other_student, world.instructor, raw_score="50")
    db.session.rollback()
    assert db.session.scalar(select(Grade.id)) is None


def test_a_stale_version_is_refused(app, world, assignment):
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="60")
    db.session.commit()
    services.save_grade(assignment, world.student, world.assistant, raw_score="70", expected_version=1)
    db.session.commit()
    with pytest.raises(Conflict, match="Someone else changed this grade"):
        services.save_grade(assignment, world.student, world.instructor, raw_score="65", expected_version=1)
    with pytest.raises(Conflict):  # the form was opened before anyone graded
        services.save_grade(assignment, world.student, world.instructor, raw_score="65", expected_version=0)
    db.session.rollback()
    assert grade.raw_score == D("70.00") and grade.version == 2


def test_a_concurrent_commit_between_read_and_write_is_refused(app, world, assignment):
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="60")
    db.session.commit()
    assert grade.raw_score == D("60.00")  # loaded in this session at version 1
    with db.engine.begin() as other:  # another grader's transaction commits meanwhile
        other.execute(text("UPDATE grades SET raw_score = 75, version = version + 1 WHERE id = :id"), {"id": grade.id})
    with pytest.raises(Conflict, match="Someone else"):
        services.save_grade(assignment, world.student, world.assistant, raw_score="90")
    db.session.rollback()
    assert db.session.get(Grade, grade.id).raw_score == D("75.00")


def test_penalty_override_needs_a_reason_and_is_audited(app, world, assignment):
    make_submission(assignment, world.student, penalty_percent=D("20"), late_seconds=7200)
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="90")
    db.session.commit()
    with pytest.raises(DomainError, match="reason"):
        services.override_penalty(grade, world.instructor, "0", "  ")
    services.override_penalty(grade, world.instructor, "5", "Doctor's note")
    db.session.commit()
    assert (grade.penalty_percent, grade.penalty_overridden) == (D("5.00"), True)
    assert services.final_score(grade) == D("85.50")
    row = audits("penalty_override")[-1]
    assert (row.old["penalty_percent"], row.new["penalty_percent"], row.reason) == ("20.00", "5.00", "Doctor's note")
    # an edit of the score keeps the overridden penalty
    services.save_grade(assignment, world.student, world.instructor, raw_score="80")
    db.session.commit()
    assert grade.penalty_percent == D("5.00")
    services.override_penalty(grade, world.instructor, "", "Back to the rule")
    db.session.commit()
    assert (grade.penalty_percent, grade.penalty_overridden) == (D("20.00"), False)
    with pytest.raises(ScoreInvalid):
        services.override_penalty(grade, world.instructor, "101", "Too much")


def test_release_audits_each_grade_and_shows_them(app, world, assignment):
    services.save_grade(assignment, world.student, world.assistant, raw_score="70")
    services.save_grade(assignment, world.student2, world.assistant, raw_score="50")
    db.session.commit()
    assert services.released_grade(assignment, world.student.id) is None
    with pytest.raises(Forbidden):  # teaching assistants grade, instructors release
        services.release(assignment, world.assistant)
    assert services.release(assignment, world.instructor) == 2
    db.session.commit()
    assert services.released_grade(assignment, world.student.id).raw_score == D("70.00")
    assert {(a.student_id, a.new["final_score"]) for a in audits("release")} == {
        (world.student.id, "70.00"), (world.student2.id, "50.00")}
    with pytest.raises(DomainError, match="already released"):
        services.release(assignment, world.instructor)


@pytest.fixture
def failing_audit_insert():
    """Make the database refuse every audit row, as a full disk or a broken constraint would."""
    def refuse(mapper, connection, target):
        raise RuntimeError("audit insert failed")

    event.listen(GradeAudit, "before_insert", refuse)
    yield
    event.remove(GradeAudit, "before_insert", refuse)


@pytest.mark.usefixtures("failing_audit_insert")
def test_no_grade_is_created_without_its_audit(app, world, assignment):
    with pytest.raises(RuntimeError):
        services.save_grade(assignment, world.student, world.instructor, raw_score="80")
    db.session.rollback()
    assert db.session.scalar(select(Grade.id)) is None


def test_no_change_survives_a_failed_audit(app, world, assignment, monkeypatch):
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="80")
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("audit insert failed")

    monkeypatch.setattr(services, "audit", broken)
    for change in (lambda: services.save_grade(assignment, world.student, world.instructor, raw_score="20"),
                   lambda: services.override_penalty(grade, world.instructor, "50", "Late"),
                   lambda: services.release(assignment, world.instructor)):
        with pytest.raises(RuntimeError):
            change()
        db.session.rollback()
    db.session.expire_all()
    grade = db.session.get(Grade, grade.id)
    assert (grade.raw_score, grade.penalty_percent, grade.version) == (D("80.00"), D("0.00"), 1)
    assert assignment.released_at is None
    assert [a.action for a in audits()] == ["create"]
