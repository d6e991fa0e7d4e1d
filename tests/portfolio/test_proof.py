"""Each piece carries a credential signed by JDU, with the work's SHA-256 as evidence, that the
public verifier accepts, and that is revoked when the piece leaves the portfolio."""
from __future__ import annotations

import hashlib

from lms.credentials import services as credentials
from lms.credentials.models import WORK, IssuedCredential
from lms.extensions import db
from lms.jobs.worker import Worker
from lms.portfolio.models import PortfolioPiece
from tests.portfolio.conftest import add, csrf, editor, new_link


def test_an_added_piece_gets_a_signed_credential_with_the_works_hash(app, world):
    client, _ = editor(app, world.student)
    add(client, world.essay_work.id)
    assert "signature is being added" in client.get("/portfolio").get_data(as_text=True)
    assert Worker(app).run(drain=True) == 1
    piece = db.session.scalar(db.select(PortfolioPiece))
    row = db.session.get(IssuedCredential, piece.credential_id)
    assert row.kind == WORK and row.student_id == world.student.id
    document = row.document
    assert document["credentialSubject"]["achievement"]["name"] == "Design essay"
    assert [a["targetName"] for a in document["credentialSubject"]["achievement"]["alignment"]] == \
        ["Level design", "Playtesting"]
    digest = hashlib.sha256(b"Why the core loop matters").hexdigest()
    assert document["evidence"][0]["description"] == f"SHA-256 {digest}"
    assert "78" not in str(document["credentialSubject"])  # the score stays the student's choice
    assert credentials.verify(document).status == "valid"
    assert "signed by JDU" in client.get("/portfolio").get_data(as_text=True)


def test_the_public_page_links_to_the_verifier_and_removal_revokes(app, world):
    client, _ = editor(app, world.student)
    add(client, world.art_work.id)
    Worker(app).run(drain=True)
    path = new_link(client)
    piece = db.session.scalar(db.select(PortfolioPiece))
    page = app.test_client().get(path).get_data(as_text=True)
    verify = f"/verify/{piece.credential_id}"
    assert verify in page
    verdict = app.test_client().get(verify).get_data(as_text=True)
    assert "has not been changed or revoked" in verdict
    evidence = db.session.get(IssuedCredential, piece.credential_id).document["evidence"]
    assert [e["name"] for e in evidence] == ["walk.png"] and evidence[0]["description"] == "SHA-256 " + "0" * 64
    credential_id = piece.credential_id
    page = client.get("/portfolio").get_data(as_text=True)
    client.post(f"/portfolio/pieces/{piece.id}/remove", data={"csrf_token": csrf(page)})
    assert db.session.get(IssuedCredential, credential_id).revoked_at is not None
    assert credentials.verify(db.session.get(IssuedCredential, credential_id).document).status == "revoked"


def test_a_deleted_submissions_credential_is_revoked_by_the_hourly_sweep(app, world):
    from lms.jobs import schedule
    from lms.portfolio import proof

    client, _ = editor(app, world.student)
    add(client, world.essay_work.id)
    Worker(app).run(drain=True)
    credential_id = db.session.scalar(db.select(PortfolioPiece.credential_id))
    db.session.execute(db.delete(type(world.essay_work)).where(type(world.essay_work).id == world.essay_work.id))
    db.session.commit()  # as a cascade would: no code of ours runs
    assert db.session.scalar(db.select(db.func.count()).select_from(PortfolioPiece)) == 0
    assert db.session.get(IssuedCredential, credential_id).revoked_at is None
    assert schedule.enqueue_due([proof.ORPHAN_SWEEP])
    db.session.commit()
    Worker(app).run(drain=True)
    db.session.expire_all()
    row = db.session.get(IssuedCredential, credential_id)
    assert row.revoked_at is not None and credentials.verify(row.document).status == "revoked"
