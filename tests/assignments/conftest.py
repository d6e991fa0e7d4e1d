"""An offering with an instructor, an assistant, two students and a files assignment."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lms.assignments.models import Assignment
from lms.auth.models import Role
from lms.extensions import db
from tests.images import image_bytes

PNG = image_bytes("PNG") + bytes(range(256)) * 4  # a real image, and bytes after it as a file may carry


class World:
    pass


@pytest.fixture
def world(make):
    w = World()
    w.instructor, w.assistant = make.user(Role.INSTRUCTOR), make.user(Role.INSTRUCTOR)
    w.student, w.other_student = make.user(Role.STUDENT), make.user(Role.STUDENT)
    w.outsider = make.user(Role.STUDENT)  # enrolled elsewhere
    w.other_instructor, w.registrar = make.user(Role.INSTRUCTOR), make.user(Role.REGISTRAR)
    w.course = make.course()
    w.offering = make.offering(w.course, instructor=w.instructor, assistant=w.assistant,
                               students=[w.student, w.other_student])
    make.offering(instructor=w.other_instructor, students=[w.outsider])
    w.assignment = make_assignment(w.offering)
    return w


def make_assignment(offering, **fields) -> Assignment:
    fields.setdefault("title", "Paper prototype")
    fields.setdefault("kinds", ["files", "text", "link"])
    fields.setdefault("allowed_extensions", ["png", "pdf"])
    fields.setdefault("max_file_bytes", 64 * 1024)
    fields.setdefault("due_at", datetime.now(UTC) + timedelta(days=7))
    fields.setdefault("attempts_allowed", 2)
    fields.setdefault("points", Decimal(100))
    assignment = Assignment(offering_id=offering.id, **fields)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def login(app, user):
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": "correct-horse-battery"})
    return client


def form_key(client, assignment) -> str:
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    return re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)


def submit_files(client, assignment, files, key=None):
    key = key or form_key(client, assignment)
    return client.post(f"/assignments/{assignment.id}/submit",
                       data={"kind": "files", "idempotency_key": key,
                             "files": [(io.BytesIO(data), name) for name, data in files]})
