from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from lms.credentials import data_integrity, jose, status_list
from lms.credentials.did import resolver, verification_method_id
from lms.credentials.keys import KeyRing, generate_key
from lms.credentials.verify import parse, verify_credential
from tests.credentials import ISSUER, course_result, fixed_key, transcript

LIST = "https://jdu.uz/credentials/status/1"
NOW = datetime(2027, 1, 10, tzinfo=UTC)


@pytest.fixture
def ring(tmp_path):
    generate_key(tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))
    generate_key(tmp_path, now=datetime(2026, 12, 1, tzinfo=UTC))
    return KeyRing.load(tmp_path)


def check(data, ring, *, lists=None, now=NOW, trusted=(ISSUER,)):
    lists = {} if lists is None else lists
    return verify_credential(
        data,
        resolvers=lambda issuer: resolver(issuer, ring) if issuer in trusted else None,
        status_lookup=lists.get,
        now=now,
    )


def signed(ring, doc=None, key=None):
    key = key or ring.current
    return data_integrity.sign(doc or course_result(), key, verification_method_id(ISSUER, key))


def test_a_signed_course_result_verifies(ring):
    verdict = check(signed(ring), ring)
    assert verdict.status == "valid"
    assert verdict.issuer == ISSUER and verdict.proof_format == "data_integrity"
    assert [(c.name, c.ok) for c in verdict.checks] == [
        ("format", True), ("issuer", True), ("signature", True), ("validity", True)]
    assert verdict.credential["credentialSubject"]["result"][0]["value"] == "87"


@pytest.mark.parametrize("path, value", [
    (("credentialSubject", "result", 0, "value"), "97"),
    (("credentialSubject", "creditsEarned"), 6.0),
    (("credentialSubject", "achievement", "name"), "Databases II"),
    (("name",), "Databases I: final result (honours)"),
])
def test_changing_a_field_is_tampered(ring, path, value):
    doc = signed(ring)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    verdict = check(doc, ring)
    assert verdict.status == "tampered"
    assert verdict.check("signature").ok is False


def test_changing_one_byte_of_the_json_text_is_tampered(ring):
    text = json.dumps(signed(ring))
    assert check(text, ring).status == "valid"
    assert check(text.replace('"87"', '"88"'), ring).status == "tampered"


def test_old_keys_still_verify_after_rotation(ring):
    assert check(signed(ring, key=ring.keys[0]), ring).status == "valid"


def test_a_proof_from_an_unknown_key_id_is_tampered(ring):
    stranger = fixed_key(9, "key-20990101T000000Z")
    verdict = check(signed(ring, key=stranger), ring)
    assert verdict.status == "tampered"
    assert "key-20990101T000000Z" in verdict.check("signature").detail


def test_a_verification_method_outside_the_issuer_is_tampered(ring):
    # Signed by a key that really is trusted, but of another issuer than the one named.
    key = ring.current
    doc = data_integrity.sign(course_result(), key, verification_method_id("did:web:partner.example", key))
    verdict = check(doc, ring, trusted=(ISSUER, "did:web:partner.example"))
    assert verdict.status == "tampered"
    assert "not a key of did:web:jdu.uz" in verdict.check("signature").detail


def test_an_issuer_we_do_not_trust_is_unknown_issuer(ring):
    doc = signed(ring, course_result(issuer="did:web:diploma-mill.example"))
    verdict = check(doc, ring)
    assert verdict.status == "unknown_issuer"
    assert verdict.check("issuer").ok is False and verdict.check("signature").ok is None


def test_revocation_bit_set_is_revoked_and_unset_is_valid(ring):
    doc = course_result()
    doc["credentialStatus"] = status_list.entry(LIST, 42)
    credential = signed(ring, doc)
    verdict = check(credential, ring, lists={LIST: status_list.encode([42])})
    assert verdict.status == "revoked" and verdict.check("status").ok is False
    verdict = check(credential, ring, lists={LIST: status_list.encode([41, 43])})
    assert verdict.status == "valid" and verdict.check("status").ok is True


def test_a_status_list_that_cannot_be_found_is_unchecked_not_failed(ring):
    doc = course_result()
    doc["credentialStatus"] = status_list.entry(LIST, 42)
    verdict = check(signed(ring, doc), ring, lists={})
    assert verdict.status == "valid"
    assert verdict.check("status").ok is None


def test_a_revoked_and_tampered_credential_is_tampered(ring):
    doc = course_result()
    doc["credentialStatus"] = status_list.entry(LIST, 42)
    credential = signed(ring, doc)
    credential["credentialSubject"]["result"][0]["value"] = "100"
    assert check(credential, ring, lists={LIST: status_list.encode([42])}).status == "tampered"


def test_validity_period(ring):
    doc = course_result()
    doc["validUntil"] = "2027-06-30T00:00:00Z"
    credential = signed(ring, doc)
    assert check(credential, ring).status == "valid"
    late = check(credential, ring, now=datetime(2027, 7, 1, tzinfo=UTC))
    assert late.status == "expired" and "expired on" in late.check("validity").detail
    early = check(credential, ring, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert early.status == "expired" and "not valid before" in early.check("validity").detail


def test_jose_round_trip_and_a_flipped_byte(ring):
    key = ring.current
    token = jose.sign(course_result(), key, verification_method_id(ISSUER, key))
    verdict = check(token, ring)
    assert (verdict.status, verdict.proof_format) == ("valid", "jose")
    assert verdict.credential["name"] == "Databases I: final result"
    head, body, sig = token.split(".")
    middle = len(body) // 2
    flipped = f"{head}.{body[:middle]}{'B' if body[middle] == 'A' else 'A'}{body[middle + 1:]}.{sig}"
    assert check(flipped, ring).status in ("tampered", "malformed")
    enveloped = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential",
                 "id": "data:application/vc+jwt," + token}
    assert check(enveloped, ring).status == "valid"


@pytest.mark.parametrize("data", [b"\xff\xfe", "", "hello", "[1, 2]", "{not json", "a.b.c"])
def test_garbage_is_malformed(ring, data):
    verdict = check(data, ring)
    assert verdict.status == "malformed" and verdict.credential is None


def test_unsigned_or_old_model_credentials_are_malformed(ring):
    assert check(course_result(), ring).status == "malformed"
    old = signed(ring)
    old["@context"] = ["https://www.w3.org/2018/credentials/v1", *old["@context"][1:]]
    verdict = check(old, ring)
    assert verdict.status == "malformed" and "@context" in verdict.check("format").detail


def test_a_transcript_with_embedded_signed_results(ring):
    results = [signed(ring, course_result(index=i, course=f"CS-{200 + i}", score=str(60 + i)))
               for i in range(3)]
    clr = signed(ring, transcript(results))
    verdict = check(clr, ring)
    assert verdict.status == "valid"
    assert verdict.check("embedded").ok is True
    assert verdict.check("embedded").detail == "3 of 3 embedded credentials valid"


def test_an_embedded_credential_with_a_broken_proof_makes_the_transcript_tampered(ring):
    results = [signed(ring, course_result(index=i)) for i in range(3)]
    results[1]["credentialSubject"]["result"][0]["value"] = "99"
    # The transcript itself is signed over the altered result, so only the embedded proof fails.
    clr = signed(ring, transcript(results))
    verdict = check(clr, ring)
    assert verdict.status == "tampered"
    assert verdict.check("signature").ok is True
    assert verdict.check("embedded").ok is False
    assert verdict.check("embedded").detail.startswith("2 of 3 embedded credentials valid")


def test_parse_accepts_text_bytes_dicts_and_tokens(ring):
    doc = signed(ring)
    assert parse(doc) == (doc, "data_integrity", None)
    assert parse(json.dumps(doc).encode()) == (doc, "data_integrity", None)
    token = jose.sign(course_result(), ring.current, "did:web:jdu.uz#x")
    assert parse(" " + token + "\n") == (course_result(), "jose", token)
    assert parse(json.dumps(token)) == (course_result(), "jose", token)
    assert parse(course_result()) == (course_result(), None, None)
    assert parse("nonsense") == (None, None, None)
    assert copy.deepcopy(doc) == doc


def test_now_defaults_to_the_present(ring):
    doc = course_result()
    doc["validUntil"] = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    verdict = verify_credential(signed(ring, doc), resolvers=lambda i: resolver(i, ring),
                                status_lookup=lambda url: None)
    assert verdict.status == "expired"
