"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C VC-DI-EDDSA 1.0).

sign: proof config = the proof options with the document's ``@context``; both it and the
document without ``proof`` are canonicalized with RDFC-1.0 (pyld's URDNA2015, the same
algorithm); hashData = SHA-256(canonical proof config) || SHA-256(canonical document); the
Ed25519 signature of hashData, base58btc-encoded with a ``z`` prefix, is ``proofValue``.

pyld has no JSON-LD "safe mode". The VC 2.0 context's ``@vocab`` maps undefined terms instead
of dropping them, and :func:`unsafe_keys` rejects the remaining silent drop (unknown ``@``
keywords), so no field can ride along unsigned next to a valid proof.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld
from pyld.jsonld import JsonLdError

from .keys import IssuerKey
from .loader import document_loader

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
_KEYWORDS = frozenset({
    "@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included",
    "@index", "@json", "@language", "@list", "@nest", "@none", "@prefix", "@propagate",
    "@protected", "@reverse", "@set", "@type", "@value", "@version", "@vocab",
})


@dataclass(frozen=True)
class ProofResult:
    ok: bool
    reason: str  # "valid" | "no_proof" | "unknown_key" | "bad_signature" | "unsupported" | "malformed"
    verification_method: str | None = None
    detail: str = ""


def iso_z(moment: datetime) -> str:
    """XSD dateTime in UTC with a ``Z``, to the second (what the spec examples use)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unsafe_keys(node, path: str = "$") -> list[str]:
    """Paths of keys JSON-LD expansion would silently drop (``@`` words that are not keywords)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("@") and key not in _KEYWORDS:
                found.append(f"{path}.{key}")
            if key != "@context":
                found.extend(unsafe_keys(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found.extend(unsafe_keys(item, f"{path}[{i}]"))
    return found


def canonicalize(document: dict) -> str:
    """RDFC-1.0 canonical N-Quads; raises pyld's ``JsonLdError`` (e.g. a context not vendored)."""
    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": document_loader})


def canonical_hash(document: dict) -> bytes:
    """SHA-256 of the canonical N-Quads of ``document`` (as given: strip ``proof`` first)."""
    return hashlib.sha256(canonicalize(document).encode("utf-8")).digest()


def _hash_data(unsecured: dict, proof_options: dict) -> bytes:
    config = {"@context": unsecured["@context"], **proof_options}
    return canonical_hash(config) + canonical_hash(unsecured)


def sign(document: dict, key: IssuerKey, verification_method: str, *,
         created: datetime | None = None) -> dict:
    """Return a copy of ``document`` with an ``eddsa-rdfc-2022`` ``proof``; the input is untouched.

    Raises ``ValueError`` if the document already has a proof, has no ``@context``, would lose
    fields in JSON-LD expansion, or ``key`` has no private part; pyld's ``JsonLdError`` if it
    uses a context that is not vendored.
    """
    if key.private_key is None:
        raise ValueError(f"key {key.key_id} has no private part (retired)")
    if "proof" in document:
        raise ValueError("document already has a proof")
    if "@context" not in document:
        raise ValueError("document has no @context")
    dropped = unsafe_keys(document)
    if dropped:
        raise ValueError(f"JSON-LD would drop {', '.join(dropped)}")
    unsecured = copy.deepcopy(document)
    options = {
        "type": PROOF_TYPE,
        "created": iso_z(created or datetime.now(UTC)),
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    signature = key.private_key.sign(_hash_data(unsecured, options))
    secured = copy.deepcopy(document)
    secured["proof"] = {**options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return secured


def _verify_one(unsecured: dict, proof, resolve) -> ProofResult:
    if not isinstance(proof, dict):
        return ProofResult(False, "malformed", detail="proof is not an object")
    method = proof.get("verificationMethod")
    method = method if isinstance(method, str) else None
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return ProofResult(False, "unsupported", method,
                           f"proof {proof.get('type')}/{proof.get('cryptosuite')} is not {CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        return ProofResult(False, "unsupported", method, "proofPurpose is not assertionMethod")
    value = proof.get("proofValue")
    if method is None or not isinstance(value, str) or not value.startswith("z"):
        return ProofResult(False, "malformed", method, "verificationMethod or proofValue missing")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        return ProofResult(False, "malformed", method, "proofValue is not base58btc")
    if len(signature) != 64:
        return ProofResult(False, "malformed", method, "proofValue is not an Ed25519 signature")
    options = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    if "@context" in proof:
        # The spec lets the proof carry its own @context only as a prefix of the document's.
        own = proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
        doc_ctx = unsecured["@context"] if isinstance(unsecured["@context"], list) else [unsecured["@context"]]
        if doc_ctx[: len(own)] != own:
            return ProofResult(False, "malformed", method, "proof @context does not match the document's")
    public_key = resolve(method)
    if public_key is None:
        return ProofResult(False, "unknown_key", method, f"no trusted key {method}")
    try:
        data = _hash_data(unsecured, options)
    except JsonLdError as exc:
        return ProofResult(False, "malformed", method, f"cannot canonicalize: {exc.args[0] if exc.args else exc}")
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return ProofResult(False, "bad_signature", method, "signature does not match the content")
    return ProofResult(True, "valid", method)


def verify(document: dict, resolve: Callable[[str], Ed25519PublicKey | None]) -> ProofResult:
    """Check the ``eddsa-rdfc-2022`` proof(s) of ``document``; never raises for bad input.

    ``resolve`` maps a verification method id to a trusted public key (``None``: not trusted).
    A proof set (a list) is valid only if every proof in it is; the first failure is returned.
    """
    if not isinstance(document, dict) or "@context" not in document:
        return ProofResult(False, "malformed", detail="not a JSON-LD document")
    if "proof" not in document:
        return ProofResult(False, "no_proof", detail="no proof")
    dropped = unsafe_keys(document)
    if dropped:
        return ProofResult(False, "malformed", detail=f"JSON-LD would drop {', '.join(dropped)}")
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    if not proofs:
        return ProofResult(False, "no_proof", detail="empty proof set")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    result = None
    for proof in proofs:
        result = _verify_one(unsecured, proof, resolve)
        if not result.ok:
            return result
    return result
