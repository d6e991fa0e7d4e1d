from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

import pytest

from lms.credentials import data_integrity, status_list
from lms.credentials.status_list import MIN_BITS, decode, encode, entry, is_set, list_credential
from tests.credentials import fixed_key

# The example encodedList of W3C Bitstring Status List v1.0 (an empty 16 KiB list).
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
LIST = "https://jdu.uz/credentials/status/1"


def test_spec_example_decodes_to_an_empty_list_of_minimum_size():
    bits = decode(SPEC_EXAMPLE)
    assert len(bits) * 8 == MIN_BITS == 131072
    assert not any(bits)
    assert decode(encode([])) == bits


def test_encoding_is_gzip_in_unpadded_base64url_multibase():
    encoded = encode([5, 1000])
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw[:2] == b"\x1f\x8b"
    assert len(gzip.decompress(raw)) == MIN_BITS // 8
    assert encode([5, 1000]) == encoded  # deterministic: no timestamp in the gzip header


def test_index_zero_is_the_most_significant_bit_of_the_first_byte():
    bits = decode(encode([0, 7, 8, 131071]))
    assert bits[0] == 0b1000_0001
    assert bits[1] == 0b1000_0000
    assert bits[-1] == 0b0000_0001
    assert sum(bin(b).count("1") for b in bits) == 4


def test_is_set():
    encoded = encode([3, 42, 99_999])
    assert [is_set(encoded, i) for i in (2, 3, 4, 41, 42, 43, 99_999, 0)] == [
        False, True, False, False, True, False, True, False]
    with pytest.raises(IndexError):
        is_set(encoded, MIN_BITS)
    with pytest.raises(IndexError):
        is_set(encoded, -1)


def test_sizes_and_indexes_are_checked():
    with pytest.raises(ValueError):
        encode([], size=1024)
    with pytest.raises(ValueError):
        encode([], size=MIN_BITS + 1)
    with pytest.raises(IndexError):
        encode([MIN_BITS])
    assert len(decode(encode([MIN_BITS], size=2 * MIN_BITS))) == 2 * MIN_BITS // 8


@pytest.mark.parametrize("bad", ["", "zabc", "u!!!", "u" + base64.urlsafe_b64encode(b"not gzip").decode(),
                                 SPEC_EXAMPLE[:-10]])
def test_undecodable_lists(bad):
    with pytest.raises(ValueError):
        decode(bad)


def test_a_list_that_inflates_past_the_limit_is_refused():
    bomb = gzip.compress(bytes(status_list.MAX_BYTES + 8))
    with pytest.raises(ValueError, match="too large"):
        decode("u" + base64.urlsafe_b64encode(bomb).decode().rstrip("="))


def test_entry_and_list_credential_shapes_sign_with_the_vendored_context():
    assert entry(LIST, 42) == {
        "id": f"{LIST}#42", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "42", "statusListCredential": LIST,
    }
    vc = list_credential(LIST, "did:web:jdu.uz", encode([42]), datetime(2026, 12, 3, tzinfo=UTC))
    assert vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert vc["validFrom"] == "2026-12-03T00:00:00Z"
    assert vc["credentialSubject"]["id"] == LIST + "#list"
    assert vc["credentialSubject"]["type"] == "BitstringStatusList"
    key = fixed_key(4)
    signed = data_integrity.sign(vc, key, "did:web:jdu.uz#k")
    assert data_integrity.verify(signed, lambda m: key.public_key).ok
    # encodedList is in the signed graph: swapping the list is detected.
    signed["credentialSubject"]["encodedList"] = encode([])
    assert data_integrity.verify(signed, lambda m: key.public_key).reason == "bad_signature"
