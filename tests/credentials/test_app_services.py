"""Issuing, revoking and verifying credentials against the database (SQLite and PostgreSQL)."""
from __future__ import annotations

import copy
import threading
import time

import pytest
from sqlalchemy import event

from lms.credentials import data_integrity, services, status_list
from lms.credentials.did import verification_method_id
from lms.credentials.keys import KeyRing, generate_key
from lms.credentials.loader import OB_V3, VC_V2
from lms.credentials.models import IssuedCredential
from lms.errors import DomainError
from lms.extensions import db


def achievement(student, name: str = "TC001 Game design I") -> dict:
    """An unsigned Open Badges 3.0 AchievementCredential, as lms/records hands it over."""
    return {
        "@context": [VC_V2, OB_V3],
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": student.student_number,
                            "identityType": "studentId", "hashed": False}],
            "achievement": {"id": "https://lms.jdu.uz/courses/TC001", "type": ["Achievement"],
                            "name": "Game design I", "description": "ゲームデザイン I",
                            "criteria": {"narrative": "Completion of TC001 with a passing final result"}},
        },
    }


def issue(student, **kwargs) -> IssuedCredential:
    row = services.issue(achievement(student), kind="achievement", student_id=student.id, **kwargs)
    db.session.commit()
    return row


def foreign_credential(tmp_path, student, did: str = "did:web:diploma-mill.example") -> dict:
    """Signed by a key that is not JDU's, naming `did` as its issuer."""
    key = generate_key(tmp_path / "other-keys")
    document = achievement(student) | {"id": "urn:uuid:00000000-0000-4000-8000-000000000000",
                                       "issuer": {"id": did, "type": ["Profile"], "name": "Japan Digital University"}}
    return data_integrity.sign(document, key, verification_method_id(did, key))


def test_issue_prepares_signs_and_stores(app, make):
    student = make.user()
    row = issue(student)
    document = row.document
    assert row.id.startswith("urn:uuid:") and document["id"] == row.id and row.token is None
    assert document["issuer"]["id"] == services.issuer_did() == "did:web:127.0.0.1%3A5000"
    assert document["@context"][0] == VC_V2 and document["validFrom"].endswith("Z")
    assert document["credentialStatus"] == status_list.entry(services.status_list_url(), row.status_index)
    assert document["proof"]["verificationMethod"] == f"{services.issuer_did()}#{services.current_key().key_id}"
    verdict = services.verify(document)
    assert verdict.status == "valid", verdict.checks
    assert {c.name for c in verdict.checks} >= {"format", "issuer", "signature", "status", "validity"}


def test_a_missing_key_is_generated_outside_production(app):
    directory = app.config["ISSUER_KEY_DIR"]
    assert not KeyRing.load(directory).keys
    key = services.current_key()
    assert [k.key_id for k in KeyRing.load(directory).keys] == [key.key_id]
    assert services.current_key().key_id == key.key_id  # once, not per call


def test_issuer_did_can_be_configured(app_with):
    other = app_with(ISSUER_DID="did:web:lms.jdu.uz")
    with other.app_context():
        assert services.issuer_did() == "did:web:lms.jdu.uz"
        assert services.issuer_profile()["id"] == "did:web:lms.jdu.uz"


def test_jose_credentials_verify_too(app, make):
    student = make.user()
    row = issue(student, proof="jose")
    assert row.document is None and row.token.count(".") == 2
    verdict = services.verify(row.token)
    assert verdict.status == "valid" and verdict.proof_format == "jose"


def test_a_changed_field_is_tampered(app, make):
    document = copy.deepcopy(issue(make.user()).document)
    document["credentialSubject"]["achievement"]["name"] = "Game design IV"
    assert services.verify(document).status == "tampered"


def test_revoked_credentials_are_revoked_and_the_list_shows_the_bit(app, make):
    registrar = make.user("registrar")
    first, second = issue(make.user()), issue(make.user())
    services.revoke(first, "Issued to the wrong student", registrar.id)
    db.session.commit()
    assert first.revoked_by_id == registrar.id and first.revoked_at is not None
    assert services.verify(first.document).status == "revoked"
    assert services.verify(second.document).status == "valid"
    encoded = services.status_list_credential()["credentialSubject"]["encodedList"]
    assert status_list.is_set(encoded, first.status_index) and not status_list.is_set(encoded, second.status_index)


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoking_needs_a_reason(app, make, reason):
    row = issue(make.user())
    with pytest.raises(DomainError):
        services.revoke(row, reason, None)


def test_revoking_twice_is_refused(app, make):
    row = issue(make.user())
    services.revoke(row, "wrong grade", None)
    with pytest.raises(DomainError, match="already"):
        services.revoke(row, "again", None)


def test_status_list_credential_is_signed_and_current(app, make):
    row = issue(make.user())
    before = services.status_list_credential()
    services.revoke(row, "wrong grade", None)
    after = services.status_list_credential()  # nothing cached: the revocation shows at once
    assert not status_list.is_set(before["credentialSubject"]["encodedList"], row.status_index)
    assert status_list.is_set(after["credentialSubject"]["encodedList"], row.status_index)
    assert after["id"] == services.status_list_url() == "http://127.0.0.1:5000/credentials/status/1"
    from lms.credentials.did import resolver

    assert data_integrity.verify(after, resolver(services.issuer_did(), services.key_ring())).ok


def test_old_credentials_verify_after_rotation(app, make):
    old = issue(make.user())
    old_key = services.current_key()
    new_key = generate_key(app.config["ISSUER_KEY_DIR"])
    assert services.current_key().key_id == new_key.key_id != old_key.key_id
    fresh = issue(make.user())
    assert fresh.document["proof"]["verificationMethod"].endswith("#" + new_key.key_id)
    assert services.verify(old.document).status == "valid"
    assert services.verify(fresh.document).status == "valid"


def test_another_issuer_is_unknown(app, make, tmp_path):
    assert services.verify(foreign_credential(tmp_path, make.user())).status == "unknown_issuer"


def test_another_key_claiming_our_did_is_not_valid(app, make, tmp_path):
    forged = foreign_credential(tmp_path, make.user(), did=services.issuer_did())
    assert services.verify(forged).status == "tampered"


def test_status_indexes_are_allocated_in_order(app, make):
    student = make.user()
    rows = [services.reserve("achievement", student.id) for _ in range(3)]
    assert [r.status_index for r in rows] == [0, 1, 2]
    assert all(db.session.get(IssuedCredential, r.id).document is None for r in rows)
    assert len({r.id for r in rows}) == 3


def test_two_writers_never_share_a_status_index(app, make):
    """A second writer while the first has not committed waits for it (SQLite's write lock, or
    PostgreSQL's unique index) and then takes the next index; on PostgreSQL by retrying."""
    student = make.user()
    collisions = []

    def on_error(context):
        if isinstance(context.original_exception, Exception) and "status_index" in str(context.original_exception):
            collisions.append(threading.current_thread().name)

    event.listen(db.engine, "handle_error", on_error)
    try:
        first = services.reserve("achievement", student.id)  # flushed, not committed
        results, errors = {}, []

        def second_writer():
            try:
                with app.app_context():
                    results["index"] = services.reserve("achievement", student.id).status_index
                    db.session.commit()
                    results["at"] = time.monotonic()
                    db.session.remove()
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(exc)

        thread = threading.Thread(target=second_writer, name="second")
        thread.start()
        time.sleep(0.5)
        committed_at = time.monotonic()
        db.session.commit()
        thread.join(timeout=30)
    finally:
        event.remove(db.engine, "handle_error", on_error)
    assert not errors, errors
    assert first.status_index == 0 and results["index"] == 1
    assert results["at"] > committed_at  # it really overlapped the first writer
    if db.engine.dialect.name == "postgresql":
        assert collisions == ["second"]  # read the same highest index, collided, retried
    assert sorted(db.session.scalars(db.select(IssuedCredential.status_index))) == [0, 1]
