"""The public pages (did.json, JWKS, status list, /verify) and the registrar's credentials page."""
from __future__ import annotations

import copy
import io
import json
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.credentials import services, status_list
from lms.credentials.forms import MAX_CREDENTIAL_BYTES
from lms.credentials.keys import generate_key
from lms.extensions import db
from tests.credentials.test_app_services import foreign_credential, issue


def post_verify(client, text: str | None = None, **extra):
    data = {"credential": text} if text is not None else {}
    data.update(extra)
    return client.post("/verify", data=data, content_type="multipart/form-data")


def test_did_document_lists_every_key_publicly(client, app):
    first = services.current_key()
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200 and "max-age=" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.data)
    assert document["id"] == services.issuer_did()
    assert [m["id"] for m in document["verificationMethod"]] == [f"{document['id']}#{first.key_id}"]
    assert document["verificationMethod"][0]["publicKeyMultibase"] == first.public_multibase()
    assert b"PRIVATE" not in response.data and b"\"d\"" not in response.data

    second = generate_key(app.config["ISSUER_KEY_DIR"])
    document = json.loads(client.get("/.well-known/did.json").data)
    ids = [f"{document['id']}#{key}" for key in (first.key_id, second.key_id)]
    assert [m["id"] for m in document["verificationMethod"]] == ids
    assert document["assertionMethod"] == ids


def test_jwks_has_the_same_public_keys(client, app):
    first = services.current_key()
    second = generate_key(app.config["ISSUER_KEY_DIR"])
    response = client.get("/.well-known/jwks.json")
    keys = json.loads(response.data)["keys"]
    assert [k["kid"] for k in keys] == [first.key_id, second.key_id]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)


def test_status_list_is_public_signed_and_fresh(client, make):
    row = issue(make.user())
    response = client.get("/credentials/status/1")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=60"
    listed = json.loads(response.data)
    assert "BitstringStatusListCredential" in listed["type"] and "proof" in listed
    assert not status_list.is_set(listed["credentialSubject"]["encodedList"], row.status_index)
    services.revoke(row, "wrong student", None)
    db.session.commit()
    listed = json.loads(client.get("/credentials/status/1").data)
    assert status_list.is_set(listed["credentialSubject"]["encodedList"], row.status_index)


def test_verify_page_shows_a_valid_credential_and_what_it_says(client, make):
    student = make.user()
    row = issue(student)
    response = post_verify(client, json.dumps(row.document))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This credential was issued by Japan Digital University and has not been changed" in page
    assert "TC001 Game design I" in page and student.student_number in page and "AchievementCredential" in page
    assert "The signature matches" in page and "It has not been revoked." in page


def test_verify_page_accepts_a_file_and_a_jws(client, make):
    row = issue(make.user(), proof="jose")
    response = post_verify(client, file=(io.BytesIO(row.token.encode()), "credential.jwt"))
    assert response.status_code == 200 and "has not been changed or revoked" in response.get_data(as_text=True)


def test_verify_page_says_tampered(client, make):
    document = copy.deepcopy(issue(make.user()).document)
    document["name"] = "TC001 Game design I (with honours)"
    page = post_verify(client, json.dumps(document)).get_data(as_text=True)
    assert "Changed after signing" in page and "The signature does not match" in page
    assert "What the credential says" not in page  # a tampered credential's claims are not shown as facts


def test_verify_page_says_revoked(client, make):
    row = issue(make.user())
    services.revoke(row, "issued by mistake", None)
    db.session.commit()
    page = post_verify(client, json.dumps(row.document)).get_data(as_text=True)
    assert "has since revoked it" in page and "Japan Digital University has revoked it." in page
    assert "TC001 Game design I" in page


def test_verify_page_says_unknown_issuer(client, make, tmp_path):
    page = post_verify(client, json.dumps(foreign_credential(tmp_path, make.user()))).get_data(as_text=True)
    assert "Unknown issuer" in page and "What the credential says" not in page


@pytest.mark.parametrize("text", ["hello", "{not json", "[1, 2]", '{"name": "no proof"}', "eyJ.eyJ.xx",
                                  '{"@context": 5, "proof": {}}', "[" * 100000])
def test_malformed_input_is_a_clear_message(client, text):
    response = post_verify(client, text)
    assert response.status_code == 400
    assert "Not a credential" in response.get_data(as_text=True)


def test_an_undecodable_file_is_a_clear_message(client):
    response = post_verify(client, file=(io.BytesIO(b"\xff\xfe{\x00bad"), "credential.json"))
    assert response.status_code == 400 and "Not a credential" in response.get_data(as_text=True)


def test_empty_input_asks_for_a_credential(client):
    response = post_verify(client, "   ")
    assert response.status_code == 400 and "Paste a credential or choose its file." in response.get_data(as_text=True)


def post_large(client, fields: dict):
    """Encoded in memory: werkzeug's test client leaves its own temp file open for bodies over 500 KB."""
    boundary, body = encode_multipart(fields)
    return client.post("/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_oversized_upload_is_refused_with_a_message(client):
    big = io.BytesIO(b"{" + b" " * MAX_CREDENTIAL_BYTES + b"}")
    response = post_large(client, {"file": FileStorage(big, "huge.json")})
    assert response.status_code == 413
    assert "larger than 2 MB" in response.get_data(as_text=True)
    assert post_large(client, {"credential": "x" * (MAX_CREDENTIAL_BYTES + 1)}).status_code == 413


def test_verify_works_for_an_anonymous_visitor_with_csrf(app_with, app, make):
    row = issue(make.user())
    other = app_with(WTF_CSRF_ENABLED=True, ISSUER_KEY_DIR=app.config["ISSUER_KEY_DIR"])
    visitor = other.test_client()
    form = visitor.get("/verify")
    assert form.status_code == 200 and "Set-Cookie" in form.headers
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    response = visitor.post("/verify", data={"csrf_token": token, "credential": json.dumps(row.document)})
    assert response.status_code == 200 and "has not been changed or revoked" in response.get_data(as_text=True)
    stranger = other.test_client()  # no session, no token: refused, not verified
    assert stranger.post("/verify", data={"credential": json.dumps(row.document)}).status_code == 400


@pytest.mark.parametrize("language", ["ja", "uz", "ru", "en"])
def test_verify_page_speaks_the_readers_language(client, make, language):
    row = issue(make.user())
    headers = {"Accept-Language": language}
    assert f'lang="{language}"' in client.get("/verify", headers=headers).get_data(as_text=True)
    response = client.post("/verify", data={"credential": json.dumps(row.document)}, headers=headers)
    assert response.status_code == 200 and f'lang="{language}"' in response.get_data(as_text=True)


def test_verification_link_of_an_issued_credential(client, make):
    row = issue(make.user())
    for path in (f"/verify/{row.id}", f"/verify?id={row.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "has not been changed or revoked" in page and row.id in page
    services.revoke(row, "wrong grade", None)
    db.session.commit()
    assert "has since revoked it" in client.get(f"/verify/{row.id}").get_data(as_text=True)


def test_verification_link_of_an_unknown_id(client):
    response = client.get("/verify/urn:uuid:00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "issued no credential with this identifier" in response.get_data(as_text=True)


def test_registrar_sees_and_revokes_a_students_credentials(client, auth, make):
    student, registrar = make.user(), make.user("registrar")
    row = issue(student)
    auth.login(registrar)
    page = client.get(f"/credentials/students/{student.id}").get_data(as_text=True)
    assert row.id in page and "Revoke this credential" in page
    response = client.post(f"/credentials/{row.id}/revoke", data={"reason": "  "})
    assert response.status_code == 302 and db.session.get(type(row), row.id).revoked_at is None
    response = client.post(f"/credentials/{row.id}/revoke", data={"reason": "Issued before the grade correction"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The credential was revoked." in page and "Issued before the grade correction" in page
    revoked = db.session.get(type(row), row.id)
    assert revoked.revoked_by_id == registrar.id and revoked.revoked_reason == "Issued before the grade correction"
    again = client.post(f"/credentials/{row.id}/revoke", data={"reason": "twice"}, follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True)


def test_revoke_form_needs_csrf(app_with, app, make):
    student, registrar = make.user(), make.user("registrar")
    row = issue(student)
    other = app_with(WTF_CSRF_ENABLED=True, ISSUER_KEY_DIR=app.config["ISSUER_KEY_DIR"])
    browser = other.test_client()
    login = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    browser.post("/login", data={"csrf_token": token, "login": registrar.email, "password": "correct-horse-battery"})
    assert browser.post(f"/credentials/{row.id}/revoke", data={"reason": "forged"}).status_code == 400
    assert db.session.get(type(row), row.id).revoked_at is None


def test_a_student_downloads_their_own_credential(client, auth, make):
    student = make.user()
    row = issue(student)
    auth.login(student)
    response = client.get(f"/credentials/{row.id}.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert json.loads(response.data) == row.document
    assert services.verify(response.data).status == "valid"
    assert client.get(f"/credentials/{row.id}.jwt").status_code == 404  # it has no JWS form
    page = client.get(f"/credentials/students/{student.id}").get_data(as_text=True)
    assert row.id in page and "Revoke this credential" not in page


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_others_cannot_download_list_or_revoke(client, auth, make, role):
    owner = make.user()
    row = issue(owner)
    auth.login(make.user(role))
    assert client.get(f"/credentials/{row.id}.json").status_code == 403
    assert client.get(f"/credentials/students/{owner.id}").status_code == 403
    assert client.post(f"/credentials/{row.id}/revoke", data={"reason": "mine now"}).status_code == 403
    assert db.session.get(type(row), row.id).revoked_at is None


def test_the_student_cannot_revoke_their_own(client, auth, make):
    student = make.user()
    row = issue(student)
    auth.login(student)
    assert client.post(f"/credentials/{row.id}/revoke", data={"reason": "hide it"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, make):
    student = make.user()
    row = issue(student)
    for path in (f"/credentials/{row.id}.json", f"/credentials/students/{student.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_registrar_downloads_and_unknown_ids_are_404(client, auth, make):
    row = issue(make.user())
    auth.login(make.user("admin"))
    assert client.get(f"/credentials/{row.id}.json").status_code == 200
    assert client.get("/credentials/urn:uuid:nothing.json").status_code == 404
