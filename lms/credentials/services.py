"""Issuing, revoking and verifying JDU's credentials: the database and configuration side of the
pure core in this package. Services flush and never commit; the caller (a view, a job, the CLI)
commits once.

The private key never enters the database: rows keep the signed document and the status-list
index; the key ring is read from LMS_ISSUER_KEY_DIR each time it is needed, so a rotation made by
`flask lms keys rotate` in another process is seen by the next request.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from lms.credentials import data_integrity, jose, status_list
from lms.credentials.did import did_web, resolver, verification_method_id
from lms.credentials.keys import IssuerKey, KeyRing, generate_key
from lms.credentials.models import IssuedCredential
from lms.credentials.verify import Verdict, verify_credential
from lms.errors import DomainError
from lms.extensions import db

VC_V2 = "https://www.w3.org/ns/credentials/v2"
STATUS_LIST_PATH = "/credentials/status/1"
RESERVE_ATTEMPTS = 20


def issuer_did() -> str:
    return current_app.config.get("ISSUER_DID") or did_web(current_app.config["APP_ORIGIN"])


def key_ring(*, generate: bool = True) -> KeyRing:
    """JDU's issuer keys, oldest first. Outside production a missing key is made on first use
    (`generate`); in production the app refuses to start without one (lms/config.py)."""
    directory = current_app.config["ISSUER_KEY_DIR"]
    ring = KeyRing.load(directory)
    if ring.keys or not generate or current_app.config["PRODUCTION"]:
        return ring
    key = generate_key(directory)
    current_app.logger.warning("No issuer key in %s: generated %s for development. In production run "
                               "`flask lms keys rotate` and back the directory up.", directory, key.key_id)
    return KeyRing.load(directory)


def current_key() -> IssuerKey:
    """The key new credentials are signed with. Raises NoIssuerKey when none can sign."""
    return key_ring().current


def issuer_profile() -> dict:
    origin = current_app.config["APP_ORIGIN"]
    return {"id": issuer_did(), "type": ["Profile"], "name": "Japan Digital University", "url": origin + "/",
            "description": "Japan Digital University (JDU), Tashkent, Uzbekistan"}


def status_list_url() -> str:
    return current_app.config["APP_ORIGIN"] + STATUS_LIST_PATH


def _insert_with_next_index(values: dict) -> int:
    """INSERT the row with the index after the highest, computed inside the same statement; returns
    the index (RETURNING: no second query to read it back).

    SQLite has one writer at a time and the statement holds the write lock, so nobody can take the
    index in between (and pysqlite's SAVEPOINT would commit the outer transaction early, so none is
    used there). On PostgreSQL two writers can read the same highest index; the unique constraint
    turns the loser's insert into an IntegrityError inside its SAVEPOINT, and it tries again.
    """
    table = IssuedCredential.__table__
    highest = select(func.coalesce(func.max(table.c.status_index), -1) + 1).scalar_subquery()
    statement = insert(table).values(**values, status_index=highest).returning(table.c.status_index)
    if db.session.get_bind().dialect.name == "sqlite":
        return db.session.execute(statement).scalar_one()
    for _attempt in range(RESERVE_ATTEMPTS):
        try:
            with db.session.begin_nested():
                return db.session.execute(statement).scalar_one()
        except IntegrityError:
            continue
    raise DomainError(_("Too many credentials are being issued at once. Please try again."))


@dataclass(frozen=True)
class Reservation:
    """A reserved credential row (what `prepare` and `store` need), without loading the ORM object."""

    id: str
    status_index: int
    issued_at: datetime


def reserve(kind: str, student_id: int, result_id: int | None = None) -> Reservation:
    """A new credential row with its own id and the next free status-list index; no document yet.
    Raises DomainError when the status list is full (or, rarely, too many writers collide)."""
    credential_id, issued_at = f"urn:uuid:{uuid.uuid4()}", datetime.now(UTC)
    index = _insert_with_next_index({"id": credential_id, "kind": kind, "student_id": student_id,
                                     "result_id": result_id, "issued_at": issued_at})
    if index >= status_list.MIN_BITS:
        raise DomainError(_("The revocation list is full; no more credentials can be issued."))
    return Reservation(credential_id, index, issued_at)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def prepare(document: dict, row: Reservation | IssuedCredential) -> dict:
    """A copy of `document` as JDU issues it: the row's id, JDU as issuer, the row's revocation bit."""
    out = dict(document)  # only top-level keys change; a deep copy of a 40-course CLR costs ~20 ms
    contexts = out.get("@context") or []
    contexts = [contexts] if isinstance(contexts, str) else list(contexts)
    out["@context"] = [VC_V2] + [c for c in contexts if c != VC_V2]
    out["id"] = row.id
    out["issuer"] = issuer_profile()
    out.setdefault("validFrom", _timestamp(row.issued_at or datetime.now(UTC)))
    out["credentialStatus"] = status_list.entry(status_list_url(), row.status_index)
    return out


def sign(document: dict) -> dict:
    """`document` with a Data Integrity proof by the current key. Raises NoIssuerKey."""
    key = current_key()
    return data_integrity.sign(document, key, verification_method_id(issuer_did(), key))


def sign_jose(document: dict, key: IssuerKey | None = None) -> str:
    """`document` as a VC-JOSE compact JWS by `key` (default: the current key, read from its file).
    Raises NoIssuerKey."""
    key = key or current_key()
    return jose.sign(document, key, verification_method_id(issuer_did(), key))


def store(row_id: str, signed: dict | None = None, token: str | None = None) -> IssuedCredential:
    row = db.session.get(IssuedCredential, row_id)
    row.document, row.token = signed, token
    db.session.flush()
    return row


def store_tokens(tokens: dict[str, str]) -> None:
    """Credential id → its compact JWS, for a batch, in one executemany (no rows loaded)."""
    if tokens:
        db.session.execute(update(IssuedCredential), [{"id": k, "token": v} for k, v in tokens.items()])


def issue(document: dict, *, kind: str, student_id: int, result_id: int | None = None,
          proof: str = "data_integrity") -> IssuedCredential:
    """Reserve, prepare, sign and store one credential. Raises NoIssuerKey, DomainError."""
    row = reserve(kind, student_id, result_id)
    prepared = prepare(document, row)
    if proof == "jose":
        return store(row.id, token=sign_jose(prepared))
    if proof != "data_integrity":
        raise ValueError(f"unknown proof format {proof!r}")
    return store(row.id, signed=sign(prepared))


def revoke(row: IssuedCredential, reason: str, actor_id: int | None) -> IssuedCredential:
    """Set the credential's revocation bit. Raises DomainError without a reason or when it is
    already revoked."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for revoking the credential."))
    if row.revoked_at is not None:
        raise DomainError(_("This credential was already revoked."))
    row.revoked_at, row.revoked_by_id, row.revoked_reason = datetime.now(UTC), actor_id, reason
    db.session.flush()
    return row


def encoded_status_list() -> str:
    revoked = db.session.scalars(select(IssuedCredential.status_index)
                                 .where(IssuedCredential.revoked_at.is_not(None)))
    return status_list.encode(revoked)


def status_list_credential() -> dict:
    """The signed BitstringStatusListCredential, made afresh from the database on every call."""
    unsigned = status_list.list_credential(status_list_url(), issuer_profile(), encoded_status_list(),
                                           datetime.now(UTC))
    return sign(unsigned)


def stored_form(row: IssuedCredential) -> dict | str:
    """What was handed out: the signed JSON-LD document, or the compact JWS."""
    return row.token if row.token is not None else row.document


def verify(data: str | bytes | dict, *, offline: bool = False) -> Verdict:
    """Verify a credential with JDU's own keys and status list (read from the database, never over
    HTTP). `offline`: the database may be unreachable, and the status check is then unknown."""
    did = issuer_did()
    ring = key_ring(generate=False)
    own_list = status_list_url()

    def resolvers(issuer_id: str):
        return resolver(did, ring) if issuer_id == did else None

    def status_lookup(list_url: str) -> str | None:
        if list_url != own_list:
            return None
        if not offline:
            return encoded_status_list()
        try:
            return encoded_status_list()
        except SQLAlchemyError:
            db.session.rollback()
            return None

    return verify_credential(data, resolvers=resolvers, status_lookup=status_lookup)
