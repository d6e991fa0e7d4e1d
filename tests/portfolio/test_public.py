"""The page an employer opens from a link: Japanese by default, only what the student chose,
nothing private, and gone the moment the link is revoked, expires or the portfolio is hidden."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lms.extensions import db
from lms.portfolio.models import Portfolio, PortfolioLink, PortfolioPiece
from tests.portfolio.conftest import add, client_as, csrf, editor, new_link


def shared(app, world, *submissions, **piece_fields):
    client, _ = editor(app, world.student)
    for submission in submissions:
        add(client, submission.id)
    for piece in db.session.scalars(db.select(PortfolioPiece)):
        for name, value in piece_fields.items():
            setattr(piece, name, value)
    db.session.commit()
    return client, new_link(client)


def test_the_employer_view_is_japanese_with_the_courses_facts_and_counts_views(app, world):
    _, path = shared(app, world, world.art_work, title_ja="歩行サイクル", description_ja="**Aseprite** で制作")
    anonymous = app.test_client()
    response = anonymous.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="ja">' in page
    assert "歩行サイクル" in page and "<strong>Aseprite</strong> で制作" in page
    assert "ゲームデザイン基礎" in page and "Level design" in page and "Malika Tursunova" in page
    assert response.headers["X-Robots-Tag"].startswith("noindex") and response.headers["Referrer-Policy"] == "no-referrer"
    assert "91" not in page  # the score only when the student shows it
    anonymous.get(path)
    assert db.session.scalar(db.select(PortfolioLink.views)) == 2


def test_a_viewer_can_switch_language(app, world):
    _, path = shared(app, world, world.art_work, title_ja="歩行サイクル", title_en="Walk cycle")
    viewer = app.test_client()
    page = viewer.get(path).get_data(as_text=True)
    viewer.post("/language", data={"csrf_token": csrf(page), "locale": "en", "next": path})
    page = viewer.get(path).get_data(as_text=True)
    assert '<html lang="en">' in page and "Walk cycle" in page and "ゲームデザイン基礎" not in page


def test_nothing_private_leaks(app, world):
    _, path = shared(app, world, world.art_work, world.essay_work, show_grade=True, show_feedback=True)
    page = app.test_client().get(path).get_data(as_text=True)
    assert "91.00" in page  # chosen: shown
    assert "Lovely silhouettes" in page  # allowed by the instructor and chosen by the student
    assert "Private words" not in page  # the essay's instructor did not allow quoting
    assert world.student.email not in page and world.student.student_number not in page
    assert "Not released yet" not in page and "Timur" not in page and "theirs" not in page


def test_revoked_expired_hidden_and_unreleased_answer_404_at_once(app, world):
    client, path = shared(app, world, world.art_work, world.essay_work)
    viewer = app.test_client()
    assert viewer.get(path).status_code == 200
    world.essay.released_at = None  # the instructor takes the release back: that piece drops out
    db.session.commit()
    page = viewer.get(path).get_data(as_text=True)
    assert "Sprite sheet" in page and "Design essay" not in page
    portfolio = db.session.scalar(db.select(Portfolio))
    portfolio.hidden = True
    db.session.commit()
    assert viewer.get(path).status_code == 404
    portfolio.hidden = False
    db.session.commit()
    link = db.session.scalar(db.select(PortfolioLink))
    link.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert viewer.get(path).status_code == 404
    link.expires_at = None
    db.session.commit()
    page = client.get("/portfolio").get_data(as_text=True)
    assert client.post(f"/portfolio/links/{link.id}/revoke", data={"csrf_token": csrf(page)}).status_code == 302
    assert viewer.get(path).status_code == 404
    assert viewer.get(path.replace(link.token, link.token[:-1] + ("A" if link.token[-1] != "A" else "B"))).status_code == 404


def test_files_come_through_the_link_and_stop_with_it(app, world):
    client, path = shared(app, world, world.art_work)
    viewer = app.test_client()
    piece = db.session.scalar(db.select(PortfolioPiece))
    file_id = world.art_work.files[0].id
    image = viewer.get(f"{path}/pieces/{piece.id}/files/{file_id}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    other_file = world.others_work.id
    assert viewer.get(f"{path}/pieces/{piece.id}/files/{other_file}").status_code == 404
    assert viewer.get(f"{path}/pieces/{piece.id + 1}/files/{file_id}").status_code == 404
    page = client.get("/portfolio").get_data(as_text=True)
    link = db.session.scalar(db.select(PortfolioLink))
    client.post(f"/portfolio/links/{link.id}/revoke", data={"csrf_token": csrf(page)})
    assert viewer.get(f"{path}/pieces/{piece.id}/files/{file_id}").status_code == 404


def test_a_deleted_submission_leaves_every_portfolio(app, world):
    _, path = shared(app, world, world.art_work, world.essay_work)
    db.session.delete(db.session.get(type(world.essay_work), world.essay_work.id))
    db.session.commit()
    page = app.test_client().get(path).get_data(as_text=True)
    assert "Design essay" not in page and "Sprite sheet" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(PortfolioPiece)) == 1


def test_the_qr_code_and_the_registrars_list(app, world):
    client, path = shared(app, world, world.art_work)
    link = db.session.scalar(db.select(PortfolioLink))
    svg = client.get(f"/portfolio/links/{link.id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client_as(app, world.other).get(f"/portfolio/links/{link.id}/qr.svg").status_code == 403
    listing = client_as(app, world.registrar).get("/portfolio/public")
    assert listing.status_code == 200 and "Malika Tursunova" in listing.get_data(as_text=True)
    assert client_as(app, world.other).get("/portfolio/public").status_code == 403


def test_a_game_build_plays_from_the_sandbox_origin_only(app, world):
    from lms.assignments.models import BuildState, GameBuild, SubmissionKind
    from lms.sandbox.tokens import read_build_token
    from tests.grading.conftest import make_assignment, make_submission
    from tests.portfolio.conftest import RELEASED, graded

    game = make_assignment(world.offering, title="Jam game", kinds=["game"], released_at=RELEASED)
    work = make_submission(game, world.student, kind=SubmissionKind.GAME, text=None)
    db.session.add(GameBuild(submission_id=work.id, archive_key="builds/x.zip", state=BuildState.READY,
                             prefix=f"builds/{work.id}", entry="index.html", file_count=3, total_bytes=1000))
    db.session.commit()
    graded(world, game, world.student, work, "88")
    _, path = shared(app, world, work)
    page = app.test_client().get(path).get_data(as_text=True)
    sandbox = app.config["SANDBOX_ORIGIN"]
    src = page.split('class="game-frame" src="', 1)[1].split('"', 1)[0]
    assert src.startswith(f"{sandbox}/b/") and src.endswith("/index.html")
    claims = read_build_token(src[len(sandbox) + 3:].split("/", 1)[0])
    assert claims.submission_id == work.id and claims.user_id == 0  # a viewer without an account
    assert 'sandbox="allow-scripts allow-pointer-lock"' in page and "allow-same-origin" not in page


def test_a_second_view_reuses_the_page_and_any_change_shows_at_once(app, world, count_queries):
    client, path = shared(app, world, world.art_work, world.essay_work)
    viewer = app.test_client()
    viewer.get(path)
    with count_queries() as counter:
        assert "Sprite sheet" in viewer.get(path).get_data(as_text=True)
    assert not [s for s in counter.statements if "FROM submission_files" in s]  # the pieces were not reloaded
    piece = db.session.scalar(db.select(PortfolioPiece).where(PortfolioPiece.submission_id == world.art_work.id))
    page = client.get("/portfolio").get_data(as_text=True)
    client.post(f"/portfolio/pieces/{piece.id}", data={"csrf_token": csrf(page), f"piece-{piece.id}-title_en": "Run cycle"})
    assert "Run cycle" in viewer.get(path).get_data(as_text=True)
    from tests.portfolio.conftest import graded
    world.essay.portfolio_feedback = True
    db.session.commit()
    essay = db.session.scalar(db.select(PortfolioPiece).where(PortfolioPiece.submission_id == world.essay_work.id))
    essay.show_feedback = True
    db.session.commit()
    graded(world, world.essay, world.student, world.essay_work, "80", "Sharper argument now.")
    assert "Sharper argument now." in viewer.get(path).get_data(as_text=True)  # a regrade shows at once


def test_the_one_page_summary_is_a_japanese_pdf_with_skills_credits_and_works(app, world, make, tmp_path):
    from tests.records.test_exports_pdf import pdf_text

    make.finalized(world.student, world.offering, "88")
    _, path = shared(app, world, world.art_work, world.essay_work, title_ja="歩行サイクル")
    response = app.test_client().get(f"{path}/summary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert text.count("\f") <= 1  # one page
    assert "歩行サイクル" in text and "Level design" in text and "Malika Tursunova" in text
    assert "単位" in text  # the credits line, in Japanese
    assert world.student.email not in text  # private unless the student opts in
    link = db.session.scalar(db.select(PortfolioLink))
    link.revoked_at = datetime.now(UTC)
    db.session.commit()
    assert app.test_client().get(f"{path}/summary.pdf").status_code == 404
