"""Verify a presented credential and return a verdict the web page, CLI and tests can show.

Statuses, first match wins: ``malformed`` (not a VC 2.0 credential we can check, or a proof we
cannot evaluate) < ``unknown_issuer`` (the issuer is not one we trust) < ``tampered`` (the
signature fails, names a key that is not the issuer's, or an embedded credential's proof
fails) < ``revoked`` (its status list bit is set) < ``expired`` (outside validFrom..validUntil)
< ``valid``.

``expired`` is an addition to the first sketch of this API: 1EdTech's displayer conformance
asks for valid / expired / revoked to be told apart, and a credential past its validUntil is
neither tampered nor malformed. It also covers a validFrom still in the future (the check's
detail says which).

Status lists: ``status_lookup(url)`` returns the list's ``encodedList`` (the caller has already
checked that list credential, e.g. it is our own from the database) or ``None``. A list that
cannot be found makes the status check ``ok=None`` ("could not be checked"): the verdict stays
``valid`` when the signature is, because an outage of the list must not brand good credentials
as bad, and the page shows the unchecked status beside it rather than claiming more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import data_integrity, jose, status_list
from .loader import VC_V2

Resolver = Callable[[str], Ed25519PublicKey | None]
_ORDER = ("malformed", "unknown_issuer", "tampered", "revoked", "expired")
_ENVELOPED_PREFIX = "data:application/vc+jwt,"


@dataclass
class Check:
    name: str  # "format" | "signature" | "issuer" | "status" | "validity" | "embedded"
    ok: bool | None  # None: could not be checked
    detail: str


@dataclass
class Verdict:
    status: str  # "valid" | "tampered" | "revoked" | "unknown_issuer" | "malformed" | "expired"
    checks: list[Check] = field(default_factory=list)
    credential: dict | None = None
    issuer: str | None = None
    proof_format: str | None = None  # "data_integrity" | "jose"

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)


def _token_of(value) -> str | None:
    if isinstance(value, str) and value.count(".") == 2 and not value.lstrip().startswith("{"):
        return value.strip()
    if isinstance(value, dict) and value.get("type") in ("EnvelopedVerifiableCredential",
                                                          ["EnvelopedVerifiableCredential"]):
        ident = value.get("id")
        if isinstance(ident, str) and ident.startswith(_ENVELOPED_PREFIX):
            return ident[len(_ENVELOPED_PREFIX):]
    return None


def parse(data: str | bytes | dict) -> tuple[dict | None, str | None, str | None]:
    """(credential, proof_format, jws token) from JSON text, a dict, or a compact JWS.

    A JWS's payload is decoded without checking the signature (that is ``verify_credential``'s
    job). An enveloped credential (``data:application/vc+jwt,...``) counts as its JWS. Anything
    else, including a dict without a proof, gives ``(dict or None, None, None)``; unreadable
    input gives ``(None, None, None)``. Never raises.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, None, None
    if isinstance(data, str):
        text = data.strip()
        if text.startswith(("{", '"')):
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                return None, None, None
        else:
            data = text
    token = _token_of(data)
    if token is not None:
        try:
            _, payload, _, _ = jose.split(token)
        except ValueError:
            return None, None, None
        return payload, "jose", token
    if not isinstance(data, dict):
        return None, None, None
    return data, ("data_integrity" if "proof" in data else None), None


def _issuer_id(credential: dict) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _format_problems(credential: dict) -> list[str]:
    problems = []
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        problems.append(f"@context must start with {VC_V2}")
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in types:
        problems.append("type lacks VerifiableCredential")
    if _issuer_id(credential) is None:
        problems.append("no issuer id")
    if not isinstance(credential.get("credentialSubject"), (dict, list)):
        problems.append("no credentialSubject")
    return problems


def _signature_check(credential: dict, proof_format: str, token: str | None,
                     issuer: str, resolve: Resolver) -> tuple[Check, str | None]:
    """(check, failing status or None)."""
    prefix = issuer + "#"

    def issuer_only(method: str) -> Ed25519PublicKey | None:
        return resolve(method) if isinstance(method, str) and method.startswith(prefix) else None

    if proof_format == "jose":
        _, result = jose.verify(token, issuer_only)
    else:
        result = data_integrity.verify(credential, issuer_only)
    method = result.verification_method
    if result.ok:
        return Check("signature", True, f"signed by {method}"), None
    if result.reason == "unknown_key" and method and not method.startswith(prefix):
        return Check("signature", False, f"signed by {method}, which is not a key of {issuer}"), "tampered"
    if result.reason in ("unknown_key", "bad_signature"):
        return Check("signature", False, result.detail), "tampered"
    return Check("signature", False, result.detail or result.reason), "malformed"


def _status_checks(credential: dict, status_lookup: Callable[[str], str | None]) -> tuple[list[Check], str | None]:
    entries = credential.get("credentialStatus")
    if entries is None:
        return [], None
    entries = entries if isinstance(entries, list) else [entries]
    checks, failing = [], None
    for item in entries:
        if not isinstance(item, dict) or item.get("type") != "BitstringStatusListEntry":
            kind = item.get("type") if isinstance(item, dict) else item
            checks.append(Check("status", None, f"status method {kind!r} is not supported"))
            continue
        url, raw_index = item.get("statusListCredential"), item.get("statusListIndex")
        purpose = item.get("statusPurpose", "revocation")
        if not isinstance(url, str) or not isinstance(raw_index, str) or not raw_index.isdigit():
            checks.append(Check("status", False, "status entry lacks a list URL or a decimal index"))
            failing = failing or "malformed"
            continue
        encoded = status_lookup(url)
        if encoded is None:
            checks.append(Check("status", None, f"status list {url} could not be retrieved"))
            continue
        try:
            flagged = status_list.is_set(encoded, int(raw_index))
        except (ValueError, IndexError) as exc:
            checks.append(Check("status", False, f"status list {url}: {exc}"))
            failing = failing or "malformed"
            continue
        if flagged and purpose in ("revocation", "suspension"):
            word = "revoked" if purpose == "revocation" else "suspended"
            checks.append(Check("status", False, f"{word} (index {raw_index} of {url})"))
            failing = failing or "revoked"
        else:
            checks.append(Check("status", True, f"{purpose}: not set (index {raw_index})"))
    return checks, failing


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        raise ValueError("not a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def _validity_check(credential: dict, now: datetime) -> tuple[Check, str | None]:
    try:
        start = _parse_time(credential["validFrom"]) if "validFrom" in credential else None
        end = _parse_time(credential["validUntil"]) if "validUntil" in credential else None
    except ValueError:
        return Check("validity", False, "validFrom/validUntil is not an XSD dateTime with a zone"), "malformed"
    if start is not None and now < start:
        return Check("validity", False, f"not valid before {credential['validFrom']}"), "expired"
    if end is not None and now > end:
        return Check("validity", False, f"expired on {credential['validUntil']}"), "expired"
    return Check("validity", True, "within its validity period"), None


def _embedded_items(credential: dict) -> list:
    types = credential.get("type")
    if "ClrCredential" not in (types if isinstance(types, list) else [types]):
        return []
    subject = credential.get("credentialSubject")
    items = subject.get("verifiableCredential") if isinstance(subject, dict) else None
    return items if isinstance(items, list) else ([items] if items is not None else [])


def _embedded_check(items: list, **kwargs) -> tuple[Check, str | None]:
    proofed = [item for item in items
               if _token_of(item) is not None or (isinstance(item, dict) and "proof" in item)]
    counts: dict[str, int] = {}
    for item in proofed:
        verdict = _verify(item, embedded=True, **kwargs)
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
    valid, total = counts.pop("valid", 0), len(proofed)
    detail = f"{valid} of {total} embedded credentials valid"
    if counts:
        detail += " (" + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + ")"
    if len(items) > total:
        detail += f"; {len(items) - total} without their own proof"
    if counts.get("tampered") or counts.get("malformed"):
        return Check("embedded", False, detail), "tampered"
    return Check("embedded", True if total and valid == total else None, detail), None


def _verify(data, *, resolvers, status_lookup, now, embedded=False) -> Verdict:
    credential, proof_format, token = parse(data)
    if credential is None:
        return Verdict("malformed", [Check("format", False, "not a credential (JSON or compact JWS)")])
    issuer = _issuer_id(credential)
    verdict = Verdict("valid", [], credential, issuer, proof_format)
    failing: set[str] = set()
    problems = _format_problems(credential)
    if proof_format is None:
        problems.append("no proof")
    verdict.checks.append(Check("format", not problems, "; ".join(problems) or "VC 2.0 credential"))
    if problems:
        verdict.status = "malformed"
        return verdict
    resolve = resolvers(issuer)
    if resolve is None:
        verdict.checks.append(Check("issuer", False, f"{issuer} is not a trusted issuer"))
        verdict.checks.append(Check("signature", None, "not checked: issuer not trusted"))
        failing.add("unknown_issuer")
    else:
        verdict.checks.append(Check("issuer", True, f"{issuer} is a trusted issuer"))
        check, bad = _signature_check(credential, proof_format, token, issuer, resolve)
        verdict.checks.append(check)
        if bad:
            failing.add(bad)
    checks, bad = _status_checks(credential, status_lookup)
    verdict.checks.extend(checks)
    if bad:
        failing.add(bad)
    check, bad = _validity_check(credential, now)
    verdict.checks.append(check)
    if bad:
        failing.add(bad)
    items = [] if embedded else _embedded_items(credential)
    if items:
        check, bad = _embedded_check(items, resolvers=resolvers, status_lookup=status_lookup, now=now)
        verdict.checks.append(check)
        if bad:
            failing.add(bad)
    verdict.status = next((status for status in _ORDER if status in failing), "valid")
    return verdict


def verify_credential(data: str | bytes | dict, *, resolvers: Callable[[str], Resolver | None],
                      status_lookup: Callable[[str], str | None], now: datetime | None = None) -> Verdict:
    """Verify ``data`` (JSON text, a dict, or a compact JWS); never raises for bad input.

    ``resolvers(issuer_id)`` gives the key resolver of a trusted issuer, ``None`` for others.
    Embedded credentials of a ClrCredential that carry their own proof are verified one level
    deep and summed up in one ``embedded`` check; any of them failing makes the whole verdict
    ``tampered``. Their revocation or expiry is reported in that check's detail but does not
    change the outer verdict: the CLR as a whole is still what its issuer signed.
    """
    return _verify(data, resolvers=resolvers, status_lookup=status_lookup,
                   now=(now or datetime.now(UTC)))
