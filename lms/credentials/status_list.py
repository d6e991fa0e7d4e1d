"""W3C Bitstring Status List v1.0: one bit per credential, GZIP-compressed, multibase base64url.

Bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``: index 0 is the left-most (most significant)
bit of the first byte, as the spec requires. Lists are at least 131,072 bits (16 KiB) so that a
set bit does not single out one of a handful of holders.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Iterable
from datetime import datetime

from .data_integrity import iso_z
from .loader import VC_V2

MIN_BITS = 131072
# A decoded list larger than this is refused: a hostile list must not inflate into memory.
MAX_BYTES = 16 * 1024 * 1024


def encode(revoked: Iterable[int], size: int = MIN_BITS) -> str:
    """``u`` + base64url (no padding) of the GZIP of the bitstring with ``revoked`` set.

    Raises ``ValueError`` for a size below ``MIN_BITS`` or not a whole number of bytes, and
    ``IndexError`` for an index outside ``0..size-1``.
    """
    if size < MIN_BITS or size % 8:
        raise ValueError(f"size must be a multiple of 8 and at least {MIN_BITS} bits")
    bits = bytearray(size // 8)
    for index in revoked:
        if not 0 <= index < size:
            raise IndexError(f"status index {index} outside 0..{size - 1}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0 so the same list always encodes to the same text (stable ETags, comparable tests).
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded: str) -> bytes:
    """The raw bitstring; raises ``ValueError`` for anything that is not an encoded list."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url ('u' prefix)")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("encodedList is not base64url") from exc
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: expect a gzip header
    try:
        bits = inflater.decompress(compressed, MAX_BYTES + 1)
    except zlib.error as exc:
        raise ValueError("encodedList is not GZIP data") from exc
    if len(bits) > MAX_BYTES or inflater.unconsumed_tail:
        raise ValueError("encodedList is too large")
    if not inflater.eof:
        raise ValueError("encodedList is truncated")
    return bits


def is_set(encoded: str, index: int) -> bool:
    """Whether bit ``index`` is set; ``IndexError`` outside the list, ``ValueError`` if undecodable."""
    bits = decode(encoded)
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status index {index} outside a list of {len(bits) * 8} bits")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def entry(list_url: str, index: int, purpose: str = "revocation") -> dict:
    """The ``credentialStatus`` of the credential at ``index`` of the list at ``list_url``."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def list_credential(list_url: str, issuer: str | dict, encoded: str, valid_from: datetime,
                    purpose: str = "revocation") -> dict:
    """The unsigned BitstringStatusListCredential published at ``list_url``."""
    return {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": iso_z(valid_from),
        "credentialSubject": {
            "id": list_url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
        },
    }
