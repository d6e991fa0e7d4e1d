"""Portfolio fixtures: a student with released graded work (a text, image files, a link), work
that must never be addable (unreleased, ungraded, another student's), built from the models."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lms.assignments.models import SubmissionFile, SubmissionKind
from lms.auth.models import Role
from lms.extensions import db
from lms.grading import services as grading
from lms.storage import get_storage
from tests.grading.conftest import client_as, make_assignment, make_submission
from tests.images import image_bytes

RELEASED = datetime(2026, 11, 1, tzinfo=UTC)


class World:
    pass


def graded(world, assignment, student, submission, score: str, comment: str = "") -> None:
    grading.save_grade(assignment, student, world.instructor, raw_score=score, comment=comment, submission=submission)
    db.session.commit()


@pytest.fixture
def world(make, app):
    w = World()
    w.instructor, w.registrar = make.user(Role.INSTRUCTOR), make.user(Role.REGISTRAR)
    w.student = make.user(Role.STUDENT, name_latin="Malika Tursunova", name_kana="マリカ")
    w.other = make.user(Role.STUDENT, name_latin="Timur Aliyev")
    w.course = make.course(title_ja="ゲームデザイン基礎", skills=["Level design", "Playtesting"])
    w.offering = make.offering(w.course, instructor=w.instructor, students=[w.student, w.other])
    w.art = make_assignment(w.offering, title="Sprite sheet", kinds=["files"], released_at=RELEASED,
                            portfolio_feedback=True)
    w.art_work = make_submission(w.art, w.student, kind=SubmissionKind.FILES, text=None)
    key = f"submissions/{w.art_work.id}/walk.png"
    get_storage().put_bytes(key, image_bytes("PNG", (32, 32)), content_type="image/png")
    db.session.add(SubmissionFile(submission_id=w.art_work.id, storage_key=key, filename="walk.png",
                                  size=100, sha256="0" * 64, media_type="image/png"))
    db.session.commit()
    graded(w, w.art, w.student, w.art_work, "91", "Lovely silhouettes; the run cycle reads well.")
    w.essay = make_assignment(w.offering, title="Design essay", released_at=RELEASED)
    w.essay_work = make_submission(w.essay, w.student, text="Why the core loop matters")
    graded(w, w.essay, w.student, w.essay_work, "78", "Private words for the student only.")
    w.hidden = make_assignment(w.offering, title="Not released yet")  # graded, grades not released
    w.hidden_work = make_submission(w.hidden, w.student, text="draft")
    graded(w, w.hidden, w.student, w.hidden_work, "60")
    w.ungraded = make_assignment(w.offering, title="Waiting for a grade", released_at=RELEASED)
    w.ungraded_work = make_submission(w.ungraded, w.student, text="waiting")
    w.others_work = make_submission(w.art, w.other, text="theirs")
    graded(w, w.art, w.other, w.others_work, "99")
    return w


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def editor(app, user):
    client = client_as(app, user)
    return client, client.get("/portfolio").get_data(as_text=True)


def add(client, submission_id: int):
    page = client.get("/portfolio").get_data(as_text=True)
    return client.post("/portfolio/pieces", data={"csrf_token": csrf(page), "submission_id": submission_id})


def new_link(client, **fields) -> str:
    page = client.get("/portfolio").get_data(as_text=True)
    client.post("/portfolio/links", data={"csrf_token": csrf(page), "label": "", "expires": "", **fields})
    page = client.get("/portfolio").get_data(as_text=True)
    return re.findall(r'value="https?://[^/"]+(/p/[^"]+)"', page)[0]



