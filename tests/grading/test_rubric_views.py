"""The rubric editor, without JavaScript: blank rows, more rows, row errors, freezing and copying."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from lms.extensions import db
from lms.grading import services
from lms.grading.models import Rubric


def rubric_form(title="Walk cycle", **rows):
    data = {"title": title, "description": "For 2D animation"}
    data.update(rows)
    return data


def test_create_a_rubric_from_the_blank_rows(app, world, login):
    client = login(world.instructor)
    page = client.get("/grading/rubrics/new")
    assert page.status_code == 200 and b"criteria-2-levels-3-points" in page.data  # 3 criteria × 4 levels
    response = client.post("/grading/rubrics/new", data=rubric_form(**{
        "criteria-0-title": "Timing", "criteria-0-levels-0-title": "Great", "criteria-0-levels-0-points": "4",
        "criteria-0-levels-1-title": "Weak", "criteria-0-levels-1-points": "1.5",
        "criteria-1-title": "", "criteria-1-levels-0-title": "",  # a blank row: ignored
        "criteria-2-title": "Spacing", "criteria-2-levels-0-title": "Even", "criteria-2-levels-0-points": "2",
        "criteria-2-levels-0-description": "Smooth <arcs>"}))
    assert response.status_code == 302
    rubric = db.session.scalars(select(Rubric)).one()
    assert rubric.owner_id == world.instructor.id
    assert [(c.title, [(lv.title, lv.points) for lv in c.levels]) for c in rubric.criteria] == [
        ("Timing", [("Great", Decimal("4.00")), ("Weak", Decimal("1.50"))]), ("Spacing", [("Even", Decimal("2.00"))])]
    page = client.get(f"/grading/rubrics/{rubric.id}")
    assert b"Smooth &lt;arcs&gt;" in page.data
    assert b"Walk cycle" in client.get("/grading/rubrics").data


def test_more_rows_saves_nothing_and_incomplete_rows_are_marked(app, world, login):
    client = login(world.instructor)
    more = client.post("/grading/rubrics/new", data=rubric_form(**{"criteria-0-title": "Timing", "more": "1"}))
    assert more.status_code == 200 and b"criteria-1-levels-3-title" in more.data
    assert db.session.scalar(select(Rubric.id)) is None
    response = client.post("/grading/rubrics/new", data=rubric_form(**{
        "criteria-0-title": "Timing", "criteria-0-levels-0-title": "Great",  # no points
        "criteria-1-levels-0-title": "Orphan", "criteria-1-levels-0-points": "2"}))  # no criterion title
    assert response.status_code == 400
    assert b"Give this level its points." in response.data and b"Name this criterion." in response.data
    response = client.post("/grading/rubrics/new", data=rubric_form(**{
        "criteria-0-title": "Timing", "criteria-0-levels-0-title": "Zero", "criteria-0-levels-0-points": "0"}))
    assert response.status_code == 400 and b"worth more than 0 points" in response.data
    assert db.session.scalar(select(Rubric.id)) is None


def test_a_used_rubric_is_frozen_and_can_be_copied(app, world, assignment, login):
    rubric = services.create_rubric(world.instructor, "Used", "", [services.CriterionSpec(
        "Timing", "", [services.LevelSpec("Good", Decimal(2))])])
    assignment.rubric_id = rubric.id
    db.session.commit()
    services.save_grade(assignment, world.student, world.instructor,
                        selections={str(rubric.criteria[0].id): rubric.criteria[0].levels[0].id})
    db.session.commit()
    client = login(world.instructor)
    page = client.get(f"/grading/rubrics/{rubric.id}")
    assert b"can no longer change" in page.data and b"<fieldset disabled>" in page.data
    response = client.post(f"/grading/rubrics/{rubric.id}", data=rubric_form(title="Changed", **{
        "criteria-0-title": "T", "criteria-0-levels-0-title": "L", "criteria-0-levels-0-points": "1"}))
    assert response.status_code == 400 and b"Copy it" in response.data
    db.session.expire_all()
    assert db.session.get(Rubric, rubric.id).title == "Used"
    copied = client.post(f"/grading/rubrics/{rubric.id}/copy")
    assert copied.status_code == 302
    copy = db.session.scalars(select(Rubric).where(Rubric.id != rubric.id)).one()
    assert copy.title == "Used (copy)" and copy.criteria[0].levels[0].points == Decimal("2.00")


def test_attaching_a_rubric_to_an_assignment(app, world, assignment, login):
    mine = services.create_rubric(world.instructor, "Mine", "", [services.CriterionSpec(
        "Timing", "", [services.LevelSpec("Good", Decimal(2))])])
    theirs = services.create_rubric(world.other_instructor, "Theirs", "", [services.CriterionSpec(
        "Timing", "", [services.LevelSpec("Good", Decimal(2))])])
    db.session.commit()
    client = login(world.instructor)
    page = client.get(f"/grading/assignments/{assignment.id}")
    assert b"Mine" in page.data and b"Theirs" not in page.data
    client.post(f"/grading/assignments/{assignment.id}/rubric", data={"rubric_id": theirs.id})
    db.session.expire_all()
    assert assignment.rubric_id is None
    client.post(f"/grading/assignments/{assignment.id}/rubric", data={"rubric_id": mine.id})
    db.session.expire_all()
    assert assignment.rubric_id == mine.id
