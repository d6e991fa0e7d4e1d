from __future__ import annotations

import copy
import hashlib
import socket
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld.jsonld import JsonLdError

from lms.credentials import data_integrity as di
from lms.credentials.keys import IssuerKey
from lms.credentials.loader import CLR_V2, CONTEXTS, OB_EXTENSIONS, OB_V3, VC_V2, document_loader
from tests.credentials import course_result, fixed_key

# Test vectors of the 1EdTech Open Badges 3.0 Implementation Guide (Final, April 2025),
# "Linked Data Proof Test Vector for Open Badges 3.0" and "... for Comprehensive Learner
# Record 2.0": a known key, document and proof options, and the expected hashes and proofValue.
# Ed25519 is deterministic, so matching them byte for byte means our contexts, RDFC-1.0
# canonicalization and eddsa-rdfc-2022 steps are the same as the published ones.
VECTOR_SEED = bytes.fromhex("6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4")
VECTOR_METHOD = "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
VECTOR_CREATED = datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC)
TEAMWORK = {
    "@context": [VC_V2, OB_V3],
    "id": "http://example.com/credentials/3527",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "https://example.edu/issuers/565049", "type": ["Profile"],
               "url": "https://www.imsglobal.org", "name": "Example Corp"},
    "validFrom": "2010-01-01T00:00:00Z",
    "name": "Teamwork Badge",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["Achievement"],
            "criteria": {"narrative": "Team members are nominated for this badge by their peers and "
                                      "recognized upon review by Example Corp management."},
            "description": "This badge recognizes the development of the capacity to collaborate "
                           "within a group environment.",
            "name": "Teamwork",
        },
    },
}
_ACHIEVEMENT_1 = {
    "id": "urn:uuid:a7467ef6-56cb-11ec-bf63-0242ac130002", "type": "Achievement",
    "creator": {"id": "https://example.edu/issuers/565049", "type": "Profile"},
    "name": "Achievement 1",
    "criteria": {"id": "https://example.edu/achievements/a7467ef6-56cb-11ec-bf63-0242ac130002/criteria"},
    "description": "Achievement 1",
    "image": {"id": "https://example.edu/achievements/sample.png", "type": "Image"},
}
_ACHIEVEMENT_2 = {
    **_ACHIEVEMENT_1, "id": "urn:uuid:dd887f0a-56cb-11ec-bf63-0242ac130002", "name": "Achievement 2",
    "criteria": {"id": "https://example.edu/achievements/dd887f0a-56cb-11ec-bf63-0242ac130002/criteria"},
    "description": "Achievement 2",
}
SAMPLE_TRANSCRIPT = {
    "@context": [VC_V2, CLR_V2, OB_V3, OB_EXTENSIONS],
    "id": "http://example.edu/credentials/3732",
    "type": ["VerifiableCredential", "ClrCredential"],
    "issuer": {"id": "https://example.edu/issuers/565049", "type": "Profile", "name": "Example University"},
    "validFrom": "2010-01-01T00:00:00Z",
    "name": "Sample Transcript",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": "ClrSubject",
        "verifiableCredential": [{
            "@context": [VC_V2, OB_V3, OB_EXTENSIONS],
            "id": "urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002",
            "type": ["VerifiableCredential", "AchievementCredential"],
            "issuer": {"id": "https://example.edu/issuers/565049", "type": "Profile",
                       "name": "Example University"},
            "validFrom": "2010-01-01T00:00:00Z",
            "name": "Example University Degree",
            "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                                  "type": "AchievementSubject", "achievement": _ACHIEVEMENT_1},
            "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
                                        "ob_v3p0_achievementcredential_schema.json",
                                  "type": "1EdTechJsonSchemaValidator2019"}],
            "proof": [{
                "type": "DataIntegrityProof", "created": "2010-01-01T19:23:24Z",
                "verificationMethod": VECTOR_METHOD, "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "proofValue": "z45QnLySMt2mWuW787G6cf3SLkP97ZkMZxLeXH5yaaTQPCtTup4GCV95tU8HEnQJSyGCokSj3AvUhmJtvveTmN4Vu",
            }],
        }],
        "achievement": [_ACHIEVEMENT_1, _ACHIEVEMENT_2],
        "association": [{"type": "Association", "associationType": "isParentOf",
                         "sourceId": "urn:uuid:a7467ef6-56cb-11ec-bf63-0242ac130002",
                         "targetId": "urn:uuid:dd887f0a-56cb-11ec-bf63-0242ac130002"}],
    },
    "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/"
                                "clr_v2p0_clrcredential_schema.json",
                          "type": "1EdTechJsonSchemaValidator2019"}],
}


def vector_key() -> IssuerKey:
    private = Ed25519PrivateKey.from_private_bytes(VECTOR_SEED)
    return IssuerKey("vector", private.public_key(), private, VECTOR_CREATED)


def vector_resolve(method):
    return vector_key().public_key if method == VECTOR_METHOD else None


def test_open_badges_test_vector_hashes_and_proof_value():
    config = {"@context": TEAMWORK["@context"], "type": "DataIntegrityProof",
              "created": "2010-01-01T19:23:24Z", "verificationMethod": VECTOR_METHOD,
              "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod"}
    assert di.canonical_hash(TEAMWORK).hex() == "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
    assert di.canonical_hash(config).hex() == "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19"
    signed = di.sign(TEAMWORK, vector_key(), VECTOR_METHOD, created=VECTOR_CREATED)
    assert signed["proof"] == {
        "type": "DataIntegrityProof", "created": "2010-01-01T19:23:24Z",
        "verificationMethod": VECTOR_METHOD, "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "proofValue": "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35HcbgXVEDYHxCzgkCr",
    }
    assert di.verify(signed, vector_resolve) == di.ProofResult(True, "valid", VECTOR_METHOD)


def test_clr_test_vector_with_an_embedded_signed_credential():
    embedded = SAMPLE_TRANSCRIPT["credentialSubject"]["verifiableCredential"][0]
    assert di.verify(embedded, vector_resolve).ok
    assert di.canonical_hash(SAMPLE_TRANSCRIPT).hex() == "768d7015ae69e0210e1c2a45194d9c1d15d7a6022e52b946574a2a27f6fa85fe"
    signed = di.sign(SAMPLE_TRANSCRIPT, vector_key(), VECTOR_METHOD, created=VECTOR_CREATED)
    assert signed["proof"]["proofValue"] == (
        "zF52sU1nfPAjcwCqtgxPNSor6SJnAzRBwZW5VNQXPt8xXCHkd39sgqj32DnMjhFCzbyHsLkhQ8HpBqQTkMgXy329")


def test_sign_returns_a_copy_and_leaves_the_input_alone():
    doc = course_result()
    before = copy.deepcopy(doc)
    signed = di.sign(doc, fixed_key(1), "did:web:jdu.uz#key-20261203T125500Z")
    assert doc == before
    assert "proof" not in doc and signed["proof"]["type"] == "DataIntegrityProof"
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["proof"]["proofPurpose"] == "assertionMethod"
    assert {k: v for k, v in signed.items() if k != "proof"} == doc


@pytest.mark.parametrize("change", [
    lambda d: d["credentialSubject"]["result"][0].__setitem__("value", "97"),
    lambda d: d["credentialSubject"].__setitem__("creditsEarned", 5.0),
    lambda d: d["credentialSubject"]["achievement"].__setitem__("name", "Databases II"),
    lambda d: d.__setitem__("validFrom", "2026-12-03T12:55:01Z"),
    lambda d: d["credentialSubject"].__setitem__("id", "urn:uuid:00000000-0000-4000-8000-000000000000"),
    lambda d: d["credentialSubject"].__setitem__("favouriteColour", "blue"),  # an added field counts too
])
def test_any_change_breaks_the_signature(change):
    key = fixed_key(1)
    method = "did:web:jdu.uz#key-20261203T125500Z"
    signed = di.sign(course_result(), key, method)
    change(signed)
    assert di.verify(signed, lambda m: key.public_key) == di.ProofResult(
        False, "bad_signature", method, "signature does not match the content")


def test_unknown_key_bad_encoding_and_unsupported_suites():
    key = fixed_key(1)
    signed = di.sign(course_result(), key, "did:web:jdu.uz#key-1")
    assert di.verify(signed, lambda m: None).reason == "unknown_key"
    assert di.verify(course_result(), lambda m: key.public_key).reason == "no_proof"
    for field, value, reason in [("proofValue", "z0OIl", "malformed"), ("proofValue", "zabc", "malformed"),
                                 ("cryptosuite", "ecdsa-rdfc-2019", "unsupported"),
                                 ("proofPurpose", "authentication", "unsupported")]:
        bad = copy.deepcopy(signed)
        bad["proof"][field] = value
        assert di.verify(bad, lambda m: key.public_key).reason == reason, field
    assert di.verify("not a dict", lambda m: key.public_key).reason == "malformed"


def test_fields_json_ld_would_drop_are_refused():
    key = fixed_key(1)
    signed = di.sign(course_result(), key, "did:web:jdu.uz#k")
    signed["credentialSubject"]["@grade"] = "A+"  # not a keyword: expansion ignores it, unsigned
    result = di.verify(signed, lambda m: key.public_key)
    assert (result.ok, result.reason) == (False, "malformed")
    with pytest.raises(ValueError, match="@grade"):
        di.sign({**course_result(), "@grade": "A+"}, key, "did:web:jdu.uz#k")


def test_sign_refuses_a_signed_document_and_a_retired_key():
    key = fixed_key(1)
    signed = di.sign(course_result(), key, "did:web:jdu.uz#k")
    with pytest.raises(ValueError, match="already"):
        di.sign(signed, key, "did:web:jdu.uz#k")
    retired = IssuerKey(key.key_id, key.public_key, None, key.created)
    with pytest.raises(ValueError, match="private"):
        di.sign(course_result(), retired, "did:web:jdu.uz#k")


def test_loader_serves_vendored_contexts_and_refuses_others_without_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the loader tried the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    for url in CONTEXTS:
        assert "@context" in document_loader(url)["document"]
    assert "BitstringStatusListEntry" in document_loader(VC_V2)["document"]["@context"]
    with pytest.raises(JsonLdError):
        document_loader("https://www.w3.org/2018/credentials/v1")
    doc = {**course_result(), "@context": [VC_V2, "https://example.org/contexts/evil.jsonld"]}
    with pytest.raises(JsonLdError):
        di.canonical_hash(doc)
    key = fixed_key(1)
    signed = di.sign(course_result(), key, "did:web:jdu.uz#k")
    signed["@context"] = [VC_V2, "https://example.org/contexts/evil.jsonld"]
    assert di.verify(signed, lambda m: key.public_key).reason == "malformed"


def test_loader_copies_are_independent():
    first = document_loader(OB_V3)["document"]
    first["@context"]["name"] = "https://evil.example/name"
    assert document_loader(OB_V3)["document"]["@context"]["name"] == {"@id": "https://schema.org/name"}


def test_canonical_hash_is_sha256_of_the_nquads():
    doc = course_result()
    assert di.canonical_hash(doc) == hashlib.sha256(di.canonicalize(doc).encode()).digest()
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#creditsEarned>" in di.canonicalize(doc)
