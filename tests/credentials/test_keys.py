from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest

from lms.credentials.did import did_document, did_web, resolver, verification_method_id
from lms.credentials.keys import (
    KeyRing,
    NoIssuerKey,
    generate_key,
    public_key_from_multibase,
    public_multibase,
    retire_private_part,
)

T0 = datetime(2026, 12, 3, 12, 55, tzinfo=UTC)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_key_file_is_private_and_named_by_its_id(tmp_path):
    directory = tmp_path / "keys"
    key = generate_key(directory, now=T0)
    assert key.key_id == "key-20261203T125500Z"
    assert key.created == T0
    assert mode(directory) == 0o700
    assert mode(directory / "key-20261203T125500Z.pem") == 0o600
    assert [p.name for p in directory.iterdir()] == ["key-20261203T125500Z.pem"]  # no temp file left
    assert (directory / "key-20261203T125500Z.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_ring_loads_several_keys_oldest_first_and_current_is_newest(tmp_path):
    keys = [generate_key(tmp_path, now=T0 + timedelta(days=d)) for d in (30, 0, 400)]
    ring = KeyRing.load(tmp_path)
    assert [k.key_id for k in ring.keys] == [keys[1].key_id, keys[0].key_id, keys[2].key_id]
    assert ring.current.key_id == keys[2].key_id
    assert ring.find(keys[1].key_id).public_multibase() == keys[1].public_multibase()
    assert ring.find("key-nope") is None
    # Rotation keeps the old keys resolvable, so what they signed still verifies.
    resolve = resolver("did:web:jdu.uz", ring)
    for key in keys:
        found = resolve(verification_method_id("did:web:jdu.uz", key))
        assert public_multibase(found) == key.public_multibase()


def test_keys_made_in_the_same_second_get_distinct_ids_in_order(tmp_path):
    first, second, third = (generate_key(tmp_path, now=T0) for _ in range(3))
    assert (first.key_id, second.key_id, third.key_id) == (
        "key-20261203T125500Z", "key-20261203T125500Z-2", "key-20261203T125500Z-3")
    assert KeyRing.load(tmp_path).current.key_id == third.key_id


def test_missing_directory_is_an_empty_ring_that_says_how_to_make_a_key(tmp_path):
    ring = KeyRing.load(tmp_path / "absent")
    assert ring.keys == ()
    with pytest.raises(NoIssuerKey, match="flask lms keys rotate"):
        ring.current


def test_retired_key_still_verifies_but_no_longer_signs(tmp_path):
    old = generate_key(tmp_path, now=T0)
    new = generate_key(tmp_path, now=T0 + timedelta(days=1))
    retire_private_part(tmp_path, new.key_id)
    assert not (tmp_path / f"{new.key_id}.pem").exists()
    assert (tmp_path / f"{new.key_id}.pub.pem").exists()
    ring = KeyRing.load(tmp_path)
    assert ring.find(new.key_id).private_key is None
    assert ring.current.key_id == old.key_id  # newest key that can still sign
    retire_private_part(tmp_path, old.key_id)
    with pytest.raises(NoIssuerKey):
        KeyRing.load(tmp_path).current
    with pytest.raises(FileNotFoundError):
        retire_private_part(tmp_path, old.key_id)


def test_corrupt_key_file_fails_loudly(tmp_path):
    generate_key(tmp_path, now=T0)
    (tmp_path / "key-20270101T000000Z.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    with pytest.raises(ValueError, match="key-20270101T000000Z.pem"):
        KeyRing.load(tmp_path)


def test_multikey_and_jwk_encodings_match_the_1edtech_test_vector_key():
    # Key pair of the 1EdTech OB 3.0 implementation guide's Data Integrity test vector.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from lms.credentials.keys import IssuerKey

    private = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex("6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"))
    key = IssuerKey("k1", private.public_key(), private, T0)
    assert key.public_multibase() == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    assert public_multibase(public_key_from_multibase(key.public_multibase())) == key.public_multibase()
    jwk = key.public_jwk()
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == "k1"
    assert jwk["x"] == "S96v3i6ovu-t2MaZtcfgcEz1EVTVLheyC3EzfKBMxaU"  # base64url of 4bdeafde...c5a5
    with pytest.raises(ValueError):
        public_key_from_multibase("z" + "1" * 40)


@pytest.mark.parametrize(("origin", "did"), [
    ("https://jdu.uz", "did:web:jdu.uz"),
    ("https://JDU.uz/", "did:web:jdu.uz"),
    ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
    ("https://example.com/u/jdu", "did:web:example.com:u:jdu"),
])
def test_did_web(origin, did):
    assert did_web(origin) == did


def test_did_web_needs_a_host():
    with pytest.raises(ValueError):
        did_web("not a url")


def test_did_document_lists_every_key_including_retired_ones(tmp_path):
    keys = [generate_key(tmp_path, now=T0 + timedelta(days=d)) for d in range(3)]
    retire_private_part(tmp_path, keys[0].key_id)
    doc = did_document("did:web:jdu.uz", KeyRing.load(tmp_path))
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["id"] == "did:web:jdu.uz"
    ids = [f"did:web:jdu.uz#{k.key_id}" for k in keys]
    assert [m["id"] for m in doc["verificationMethod"]] == ids
    assert doc["assertionMethod"] == ids
    for method, key in zip(doc["verificationMethod"], keys, strict=True):
        assert method == {"id": f"did:web:jdu.uz#{key.key_id}", "type": "Multikey",
                          "controller": "did:web:jdu.uz", "publicKeyMultibase": key.public_multibase()}


def test_resolver_answers_only_for_its_own_did(tmp_path):
    key = generate_key(tmp_path, now=T0)
    resolve = resolver("did:web:jdu.uz", KeyRing.load(tmp_path))
    assert resolve(f"did:web:jdu.uz#{key.key_id}") is not None
    assert resolve(f"did:web:evil.example#{key.key_id}") is None
    assert resolve(f"did:web:jdu.uz.evil.example#{key.key_id}") is None
    assert resolve("did:web:jdu.uz#key-unknown") is None
