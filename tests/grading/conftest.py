"""Grading fixtures: an offering with staff and students, and assignments, submissions and grades
built directly from the models (not through the assignment services)."""
from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lms.assignments.models import Assignment, GradeCategory, Submission, SubmissionKind
from lms.auth.models import Role
from lms.extensions import db
from tests.conftest import PASSWORD

DUE = datetime(2026, 10, 1, 14, 0, tzinfo=UTC)
_attempts = itertools.count(1)


class World:
    """instructor and assistant staff `offering` (students: student, student2);
    other_instructor teaches `other_offering` (student: other_student)."""


@pytest.fixture
def world(make):
    w = World()
    w.instructor = make.user(Role.INSTRUCTOR)
    w.assistant = make.user(Role.INSTRUCTOR)
    w.other_instructor = make.user(Role.INSTRUCTOR)
    w.registrar = make.user(Role.REGISTRAR)
    w.admin = make.user(Role.ADMIN)
    w.student = make.user(Role.STUDENT, name_latin="Aziz Karimov", name_kana="アジズ")
    w.student2 = make.user(Role.STUDENT)
    w.other_student = make.user(Role.STUDENT)
    w.offering = make.offering(instructor=w.instructor, assistant=w.assistant, students=[w.student, w.student2])
    w.other_offering = make.offering(instructor=w.other_instructor, students=[w.other_student])
    return w


def make_assignment(offering, **fields) -> Assignment:
    fields.setdefault("title", f"Assignment {uuid.uuid4().hex[:6]}")
    fields.setdefault("due_at", DUE)
    fields.setdefault("kinds", ["text"])
    assignment = Assignment(offering_id=offering.id, **fields)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def make_submission(assignment, student, **fields) -> Submission:
    fields.setdefault("attempt", 1)
    fields.setdefault("kind", SubmissionKind.TEXT)
    fields.setdefault("text", "My answer")
    fields.setdefault("due_at", assignment.due_at)
    fields.setdefault("submitted_at", assignment.due_at - timedelta(hours=1))
    submission = Submission(assignment_id=assignment.id, student_id=student.id,
                            idempotency_key=uuid.uuid4().hex, **fields)
    db.session.add(submission)
    db.session.commit()
    return submission


def make_category(offering, name: str, weight: str, position: int = 0) -> GradeCategory:
    category = GradeCategory(offering_id=offering.id, name=name, weight=Decimal(weight), position=position)
    db.session.add(category)
    db.session.commit()
    return category


def client_as(app, user):
    client = app.test_client()
    if user is not None:
        response = client.post("/login", data={"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.data[:300]
    return client


@pytest.fixture
def assignment(world):
    return make_assignment(world.offering, title="Pixel walk cycle")


@pytest.fixture
def login(app):
    return lambda user: client_as(app, user)
