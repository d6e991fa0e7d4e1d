"""did:web for the issuer: the DID, its DID document, and a resolver over the local key ring.

The DID document is served at ``/.well-known/did.json``; verification here never fetches it:
``resolver`` answers from the ring, and only for this DID's own verification methods.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .keys import IssuerKey, KeyRing

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


def did_web(origin: str) -> str:
    """``https://jdu.uz`` -> ``did:web:jdu.uz``; a port becomes ``%3A5000``; a path, ``:``-segments.

    Raises ``ValueError`` for a URL without a host.
    """
    parts = urlsplit(origin.strip())
    if not parts.hostname:
        raise ValueError(f"not an origin URL: {origin!r}")
    host = parts.hostname.lower()
    if parts.port:
        host += f"%3A{parts.port}"
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


def verification_method_id(did: str, key: IssuerKey) -> str:
    return f"{did}#{key.key_id}"


def did_document(did: str, ring: KeyRing) -> dict:
    """Every key of the ring (retired ones too, so old credentials verify) as a Multikey."""
    methods = [
        {"id": verification_method_id(did, key), "type": "Multikey", "controller": did,
         "publicKeyMultibase": key.public_multibase()}
        for key in ring.keys
    ]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def resolver(did: str, ring: KeyRing) -> Callable[[str], Ed25519PublicKey | None]:
    """Verification method id -> public key, or ``None`` if it is not one of ``did``'s keys."""
    prefix = did + "#"

    def resolve(method_id: str) -> Ed25519PublicKey | None:
        if not isinstance(method_id, str) or not method_id.startswith(prefix):
            return None
        key = ring.find(method_id[len(prefix):])
        return key.public_key if key else None

    return resolve
