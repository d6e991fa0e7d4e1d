"""Every grading route × every role: who gets the page, who is sent to log in, who is refused —
and a refused request changes nothing."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.assignments.models import Extension, GradeCategory, SubmissionFile, SubmissionKind
from lms.extensions import db
from lms.grading import services
from lms.grading.models import FeedbackFile, Grade, GradeAudit, Rubric, TimedComment
from lms.grading.rubrics import CriterionSpec, LevelSpec
from lms.storage import get_storage
from lms.video.models import Video, VideoState
from tests.grading.conftest import client_as, make_assignment, make_category, make_submission

ROLES = ["anonymous", "student", "student2", "other_student", "instructor", "assistant", "other_instructor",
         "registrar", "admin"]
STAFF = {"instructor", "assistant"}
VIEWERS = STAFF | {"registrar", "admin"}
AUTHORS = {"instructor", "assistant", "other_instructor", "admin"}  # by global role

READ = {
    "/grading/assignments/{a}": VIEWERS,
    "/grading/assignments/{a}/students/{s}": VIEWERS,
    "/grading/offerings/{o}/gradebook": VIEWERS,
    "/grading/offerings/{o}/gradebook.csv": VIEWERS,
    "/grading/assignments/{a}/import": STAFF,
    "/submissions/{sub}/files/{file}": VIEWERS | {"student"},  # the submission is the student's
    "/grading/feedback/{fb}": VIEWERS,  # the student too, once released
    "/grading/rubrics": AUTHORS,
    "/grading/rubrics/new": AUTHORS,
    "/grading/rubrics/{r}": STAFF,  # its owner, and graders of an assignment using it
}
WRITE = [
    ("/grading/assignments/{a}/students/{s}", {"score": "55", "comment": "x"}, STAFF),
    ("/grading/grades/{g}/penalty", {"penalty-penalty": "5", "penalty-reason": "why"}, STAFF),
    ("/grading/submissions/{sub}/comments", {"second": "1", "text": "here"}, STAFF),
    ("/grading/comments/{c}/delete", {}, STAFF),
    ("/grading/feedback/{fb}/delete", {}, STAFF),
    ("/grading/assignments/{a}/import", {}, STAFF),
    ("/grading/assignments/{a}/import/apply", {"csv_text": "student_number,score\n{number},12\n"}, STAFF),
    ("/grading/assignments/{a}/rubric", {"rubric_id": "0"}, {"instructor"}),
    ("/grading/offerings/{o}/extend", {"extend-assignment_id": "{a}", "extend-due_at": "2026-12-01T10:00",
                                        "extend-reason": "flu", "student": "{s}"}, {"instructor"}),
    ("/grading/offerings/{o}/release", {"assignment": "{a}"}, {"instructor"}),
    ("/grading/offerings/{o}/weights", {"weight-{cat}": "35"}, {"instructor"}),
    ("/grading/assignments/{a}/release", {}, {"instructor"}),
    ("/grading/rubrics/{r}", {"title": "Changed", "criteria-0-title": "C", "criteria-0-levels-0-title": "L",
                              "criteria-0-levels-0-points": "1"}, {"instructor"}),
    ("/grading/rubrics/{r}/copy", {}, STAFF),
    ("/grading/rubrics/new", {"title": "Mine", "criteria-0-title": "C", "criteria-0-levels-0-title": "L",
                              "criteria-0-levels-0-points": "1"}, AUTHORS),
]


@pytest.fixture
def scene(app, world):
    rubric = services.create_rubric(world.instructor, "Shared rubric", "", [
        CriterionSpec("Timing", "", [LevelSpec("Good", Decimal(2)), LevelSpec("Poor", Decimal(0))])])
    category = make_category(world.offering, "Projects", "100")
    assignment = make_assignment(world.offering, rubric_id=rubric.id, category_id=category.id)
    video = Video(lesson_id=None, uploaded_by_id=world.student.id, original_key="videos/originals/y",
                  original_name="a.mp4", original_size=1, original_sha256="0" * 64, state=VideoState.READY,
                  duration=30.0, renditions=[], published_prefix="videos/published/y")
    db.session.add(video)
    db.session.flush()
    submission = make_submission(assignment, world.student, kind=SubmissionKind.VIDEO, text=None, video_id=video.id)
    get_storage().put_bytes("submissions/t/file", b"data")
    file = SubmissionFile(submission_id=submission.id, storage_key="submissions/t/file", filename="a.txt", size=4,
                          sha256="0" * 64, media_type="text/plain")
    db.session.add(file)
    grade = services.save_grade(assignment, world.student, world.instructor, raw_score="80")
    feedback = services.add_feedback_file(grade, world.instructor, io.BytesIO(b"notes"), "notes.txt")
    comment = services.add_timed_comment(submission, world.instructor, "3", "Look here")
    db.session.commit()
    ids = {"a": assignment.id, "s": world.student.id, "o": world.offering.id, "sub": submission.id, "file": file.id,
           "fb": feedback.id, "r": rubric.id, "g": grade.id, "c": comment.id, "cat": category.id,
           "number": world.student.student_number}
    return ids


def fingerprint(assignment_id: int) -> tuple:
    db.session.expire_all()
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    grades = db.session.execute(select(Grade.id, Grade.raw_score, Grade.penalty_percent, Grade.penalty_overridden,
                                       Grade.comment, Grade.version).order_by(Grade.id)).all()
    from lms.assignments.models import Assignment

    assignment = db.session.get(Assignment, assignment_id)
    rubrics = db.session.execute(select(Rubric.id, Rubric.title).order_by(Rubric.id)).all()
    weights = db.session.scalars(select(GradeCategory.weight).order_by(GradeCategory.id)).all()
    return (tuple(grades), assignment.released_at, assignment.rubric_id, tuple(rubrics), tuple(weights),
            count(GradeAudit),
            count(Extension), count(TimedComment), count(FeedbackFile))


def _user(world, role):
    return None if role == "anonymous" else getattr(world, role)


@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(app, world, scene, role):
    client = client_as(app, _user(world, role))
    for route, allowed in READ.items():
        response = client.get(route.format(**scene))
        expected = 302 if role == "anonymous" else 200 if role in allowed else 403
        assert response.status_code == expected, f"{role} GET {route}"
        if expected == 302:
            assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_write_matrix(app, world, scene, role):
    client = client_as(app, _user(world, role))
    before = fingerprint(scene["a"])
    for route, data, allowed in WRITE:
        if role in allowed:
            continue
        response = client.post(route.format(**scene), data={k: v.format(**scene) for k, v in data.items()})
        if role == "anonymous":
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), route
        else:
            assert response.status_code == 403, f"{role} POST {route}"
    assert fingerprint(scene["a"]) == before, f"a refused {role} changed something"


@pytest.mark.parametrize("role", sorted(STAFF | {"other_instructor", "admin"}))
def test_allowed_writes_succeed(app, world, scene, role):
    client = client_as(app, _user(world, role))
    for route, data, allowed in WRITE:
        if role in allowed:
            response = client.post(route.format(**scene), data={k: v.format(**scene) for k, v in data.items()})
            assert response.status_code in (200, 302, 400), f"{role} POST {route}: {response.status_code}"


def test_assistant_grades_and_the_other_instructor_changes_nothing(app, world, scene):
    url = "/grading/assignments/{a}/students/{s}".format(**scene)
    assert client_as(app, world.other_instructor).post(url, data={"score": "1"}).status_code == 403
    assert db.session.get(Grade, scene["g"]).raw_score == Decimal("80.00")
    assert client_as(app, world.assistant).post(url, data={"score": "95", "version": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Grade, scene["g"]).raw_score == Decimal("95.00")


def test_missing_objects_are_404(app, world, scene):
    client = client_as(app, world.instructor)
    for route in ["/grading/assignments/999999", "/grading/offerings/999999/gradebook",
                  "/grading/assignments/{a}/students/999999", "/grading/feedback/999999",
                  "/submissions/{sub}/files/999999", "/grading/rubrics/999999"]:
        assert client.get(route.format(**scene)).status_code == 404, route
    other = "/grading/assignments/{a}/students/%d" % world.other_student.id  # not in this offering
    assert client.get(other.format(**scene)).status_code == 404
