from __future__ import annotations

import base64
import json

import pytest

from lms.credentials import jose
from lms.credentials.keys import b64url
from tests.credentials import course_result, fixed_key

METHOD = "did:web:jdu.uz#key-20261203T125500Z"


def resolve_for(key):
    return lambda method: key.public_key if method == METHOD else None


def test_round_trip_header_and_payload():
    key = fixed_key(2)
    doc = course_result(name="Mathematics for Informatics")
    token = jose.sign(doc, key, METHOD)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": METHOD, "typ": "vc+jwt", "cty": "vc"}
    payload, result = jose.verify(token, resolve_for(key))
    assert result.ok and result.reason == "valid" and result.verification_method == METHOD
    assert payload == doc  # the payload is the credential itself, non-ASCII included


@pytest.mark.parametrize("where", [0, 10, 40, "payload", -30, -2, -1])
def test_a_changed_character_anywhere_fails(where):
    key = fixed_key(2)
    token = jose.sign(course_result(), key, METHOD)
    head, body, sig = token.split(".")
    position = {"payload": len(head) + 1 + len(body) // 2}.get(where, where)
    position %= len(token)
    if token[position] == ".":
        position += 1
    flipped = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
    payload, result = jose.verify(flipped, resolve_for(key))
    assert payload is None and not result.ok
    assert result.reason in ("bad_signature", "malformed", "unknown_key")


def test_signature_with_stray_low_bits_is_refused():
    # The last base64url character of a 64-byte signature carries 2 bits of data and 4 unused
    # ones; a decoder that ignores them would accept two different texts as one signature.
    key = fixed_key(2)
    token = jose.sign(course_result(), key, METHOD)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    twin = token[:-1] + alphabet[last ^ 1]
    payload, result = jose.verify(twin, resolve_for(key))
    assert payload is None and result.reason == "malformed"


def test_wrong_key_unknown_kid_and_other_algorithms():
    key, other = fixed_key(2), fixed_key(3)
    token = jose.sign(course_result(), other, METHOD)
    assert jose.verify(token, resolve_for(key))[1].reason == "bad_signature"
    assert jose.verify(token, lambda m: None)[1].reason == "unknown_key"
    _, body, sig = token.split(".")
    for header in ({"alg": "none", "kid": METHOD}, {"alg": "HS256", "kid": METHOD},
                   {"alg": "EdDSA", "kid": METHOD, "crit": ["b64"], "b64": False}):
        forged = b64url(json.dumps(header).encode()) + "." + body + "." + sig
        assert jose.verify(forged, resolve_for(key))[1].reason == "unsupported", header
    for garbage in ("", "a.b", "a.b.c.d", "!!.??.##", f"{b64url(b'[1]')}.{body}.{sig}"):
        assert jose.verify(garbage, resolve_for(key))[1].reason == "malformed", garbage


def test_retired_key_cannot_sign():
    from lms.credentials.keys import IssuerKey

    key = fixed_key(2)
    with pytest.raises(ValueError):
        jose.sign(course_result(), IssuerKey(key.key_id, key.public_key, None, key.created), METHOD)
