"""VC-JOSE-COSE: a credential secured as a compact JWS (``typ: vc+jwt``, ``alg: EdDSA``).

The payload is the credential JSON itself (VC 2.0 style, no ``vc`` claim wrapper). Written on
``cryptography`` directly rather than a JOSE library: there is one algorithm to support, and a
verifier that accepts only it cannot be talked into ``alg: none`` or an HMAC key confusion.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .data_integrity import ProofResult
from .keys import IssuerKey, b64url

TYP = "vc+jwt"
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_decode(segment: str) -> bytes:
    """Strict base64url without padding; raises ``ValueError``.

    Non-canonical encodings (stray low bits in the last character) are refused, so that every
    change to a token's text is a change to its bytes.
    """
    if not isinstance(segment, str) or not set(segment) <= _B64URL or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if b64url(data) != segment:
        raise ValueError("non-canonical base64url")
    return data


def sign(document: dict, key: IssuerKey, verification_method: str) -> str:
    """Compact JWS of ``document``; raises ``ValueError`` if ``key`` has no private part."""
    if key.private_key is None:
        raise ValueError(f"key {key.key_id} has no private part (retired)")
    header = {"alg": "EdDSA", "kid": verification_method, "typ": TYP, "cty": "vc"}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode("utf-8")) + "."
        + b64url(orjson.dumps(document))  # compact UTF-8, as json.dumps(separators, ensure_ascii=False)
    )
    signature = key.private_key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url(signature)


def split(token: str) -> tuple[dict, dict, bytes, str]:
    """(header, payload, signature, signing input) of a compact JWS, unverified.

    Raises ``ValueError`` when it is not three base64url parts of JSON objects and 64 bytes.
    """
    if not isinstance(token, str):
        raise ValueError("token is not a string")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("JWS parts are not JSON") from exc
    signature = b64url_decode(parts[2])
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("JWS header or payload is not an object")
    return header, payload, signature, parts[0] + "." + parts[1]


def verify(token: str, resolve: Callable[[str], Ed25519PublicKey | None]) -> tuple[dict | None, ProofResult]:
    """(payload, result): the payload only when the signature is valid; never raises for bad input."""
    try:
        header, payload, signature, signing_input = split(token)
    except ValueError as exc:
        return None, ProofResult(False, "malformed", detail=str(exc))
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    if header.get("alg") != "EdDSA":
        return None, ProofResult(False, "unsupported", kid, f"alg {header.get('alg')!r} is not EdDSA")
    if "crit" in header:
        return None, ProofResult(False, "unsupported", kid, "critical header extensions")
    if header.get("typ") not in (None, TYP, "vc+ld+jwt"):
        return None, ProofResult(False, "unsupported", kid, f"typ {header.get('typ')!r}")
    if kid is None or len(signature) != 64:
        return None, ProofResult(False, "malformed", kid, "kid missing or signature not Ed25519")
    public_key = resolve(kid)
    if public_key is None:
        return None, ProofResult(False, "unknown_key", kid, f"no trusted key {kid}")
    try:
        public_key.verify(signature, signing_input.encode("ascii"))
    except InvalidSignature:
        return None, ProofResult(False, "bad_signature", kid, "signature does not match the content")
    return payload, ProofResult(True, "valid", kid)
