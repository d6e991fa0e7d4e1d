"""A student builds a portfolio from released graded work; nothing else can get in."""
from __future__ import annotations

import pytest

from lms.extensions import db
from lms.portfolio.models import PortfolioPiece
from tests.conftest import PASSWORD
from tests.portfolio.conftest import add, client_as, csrf, editor


def test_only_my_released_graded_work_is_offered_and_can_be_added(app, world):
    client, page = editor(app, world.student)
    assert "Sprite sheet" in page and "Design essay" in page
    assert "Not released yet" not in page and "Waiting for a grade" not in page
    assert add(client, world.art_work.id).status_code == 302
    assert "Added to your portfolio" in client.get("/portfolio").get_data(as_text=True)
    assert [p.submission_id for p in db.session.scalars(db.select(PortfolioPiece))] == [world.art_work.id]


@pytest.mark.parametrize("which", ["hidden_work", "ungraded_work", "others_work"])
def test_guessing_the_id_of_other_work_adds_nothing(app, world, which):
    client, _ = editor(app, world.student)
    add(client, getattr(world, which).id)
    page = client.get("/portfolio").get_data(as_text=True)
    assert "Only your own graded work whose grade has been released" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(PortfolioPiece)) == 0
    add(client, 999999)  # an id that does not exist gets the same answer
    assert db.session.scalar(db.select(db.func.count()).select_from(PortfolioPiece)) == 0


def test_edit_reorder_and_remove_pieces(app, world):
    client, _ = editor(app, world.student)
    add(client, world.art_work.id)
    add(client, world.essay_work.id)
    pieces = db.session.scalars(db.select(PortfolioPiece).order_by(PortfolioPiece.position)).all()
    art, essay = pieces
    page = client.get("/portfolio").get_data(as_text=True)
    r = client.post(f"/portfolio/pieces/{art.id}", data={
        "csrf_token": csrf(page), f"piece-{art.id}-title_ja": "歩行サイクル", f"piece-{art.id}-title_en": "Walk cycle",
        f"piece-{art.id}-description_en": "Made in **Aseprite**.", f"piece-{art.id}-show_grade": "y"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (art.title_ja, art.title_en, art.show_grade, art.show_feedback) == ("歩行サイクル", "Walk cycle", True, False)
    client.post(f"/portfolio/pieces/{essay.id}/up", data={"csrf_token": csrf(page)})
    db.session.expire_all()
    assert [p.submission_id for p in db.session.scalars(db.select(PortfolioPiece).order_by(PortfolioPiece.position))] \
        == [world.essay_work.id, world.art_work.id]
    client.post(f"/portfolio/pieces/{essay.id}/remove", data={"csrf_token": csrf(page)})
    assert [p.id for p in db.session.scalars(db.select(PortfolioPiece))] == [art.id]


def test_too_long_text_is_refused_with_a_message_and_nothing_changes(app, world):
    client, _ = editor(app, world.student)
    add(client, world.art_work.id)
    piece = db.session.scalar(db.select(PortfolioPiece))
    page = client.get("/portfolio").get_data(as_text=True)
    client.post(f"/portfolio/pieces/{piece.id}", data={
        "csrf_token": csrf(page), f"piece-{piece.id}-title_en": "Walk", f"piece-{piece.id}-description_en": "x" * 2001})
    assert "2000" in client.get("/portfolio").get_data(as_text=True)
    db.session.expire_all()
    assert piece.title_en == "Sprite sheet" and piece.description_en == ""


def test_another_student_cannot_touch_my_pieces_and_csrf_is_required(app, app_with, world):
    client, _ = editor(app, world.student)
    add(client, world.art_work.id)
    piece = db.session.scalar(db.select(PortfolioPiece))
    intruder, page = editor(app, world.other)
    assert intruder.post(f"/portfolio/pieces/{piece.id}/remove", data={"csrf_token": csrf(page)}).status_code == 403
    strict = app_with(WTF_CSRF_ENABLED=True).test_client()
    login_page = strict.get("/login").get_data(as_text=True)
    strict.post("/login", data={"csrf_token": csrf(login_page), "login": world.student.email,
                                "password": PASSWORD})
    assert "My portfolio" in strict.get("/portfolio").get_data(as_text=True)
    assert strict.post(f"/portfolio/pieces/{piece.id}/remove").status_code == 400  # no CSRF token
    assert db.session.get(PortfolioPiece, piece.id) is not None
    assert client_as(app, world.instructor).get("/portfolio").status_code == 403  # students' page
