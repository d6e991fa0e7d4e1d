"""Issuer signing keys: Ed25519, one PEM file per key, in a directory of their own.

Rotation never deletes: a new key becomes ``current`` and the older files stay, so credentials
signed with them still verify (the DID document lists every key). A key can be *retired*: its
private part is replaced by a ``.pub.pem`` so it can no longer sign but still verifies.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Multicodec prefix of an Ed25519 public key (0xed, varint-encoded as 0xed 0x01).
_ED25519_PUB_PREFIX = b"\xed\x01"
_KEY_ID = re.compile(r"^key-(\d{8}T\d{6}Z)(?:-(\d+))?$")
_PUBLIC_SUFFIX = ".pub.pem"


class NoIssuerKey(Exception):
    """There is no key with a private part to sign with."""

    def __init__(self, directory: Path | str | None = None):
        where = f" in {directory}" if directory else ""
        super().__init__(f"no issuer signing key{where}; create one with `flask lms keys rotate`")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_multibase(key: Ed25519PublicKey) -> str:
    """Multikey encoding: ``z`` + base58btc(0xed 0x01 + 32 raw bytes), i.e. ``z6Mk...``."""
    return "z" + base58.b58encode(_ED25519_PUB_PREFIX + raw_public_bytes(key)).decode("ascii")


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Inverse of :func:`public_multibase`; raises ``ValueError`` for anything else."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ValueError("not a base58btc multibase value")
    try:
        data = base58.b58decode(value[1:])
    except ValueError as exc:
        raise ValueError("not a base58btc multibase value") from exc
    if len(data) != 34 or not data.startswith(_ED25519_PUB_PREFIX):
        raise ValueError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(data[2:])


@dataclass(frozen=True)
class IssuerKey:
    key_id: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None
    created: datetime

    def public_multibase(self) -> str:
        return public_multibase(self.public_key)

    def public_jwk(self) -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public_bytes(self.public_key)),
                "kid": self.key_id}


def _created_from(key_id: str, path: Path) -> datetime:
    match = _KEY_ID.match(key_id)
    if match:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    # A hand-named file still loads; its age is the file's.
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _order(key: IssuerKey) -> tuple:
    match = _KEY_ID.match(key.key_id)
    return (key.created, int(match.group(2) or 1) if match else 0, key.key_id)


class KeyRing:
    """The issuer's keys, oldest first."""

    def __init__(self, keys: tuple[IssuerKey, ...] | list[IssuerKey] = (), directory: Path | None = None):
        self.keys: tuple[IssuerKey, ...] = tuple(sorted(keys, key=_order))
        self.directory = directory

    @classmethod
    def load(cls, directory: Path | str) -> KeyRing:
        """Load ``*.pem`` (PKCS8 private) and ``*.pub.pem`` (public-only) files.

        A missing directory is an empty ring. Raises ``ValueError`` naming the file when a PEM
        file is unreadable or not an Ed25519 key: a corrupt key directory must not be silently
        half-loaded.
        """
        directory = Path(directory)
        if not directory.is_dir():
            return cls((), directory)
        found: dict[str, IssuerKey] = {}
        for path in sorted(directory.glob("*.pem")):
            public_only = path.name.endswith(_PUBLIC_SUFFIX)
            key_id = path.name[: -len(_PUBLIC_SUFFIX)] if public_only else path.name[: -len(".pem")]
            if public_only and key_id in found:
                continue  # the private file already gives the public part
            data = path.read_bytes()
            try:
                if public_only:
                    public = serialization.load_pem_public_key(data)
                    private = None
                else:
                    private = serialization.load_pem_private_key(data, password=None)
                    public = private.public_key() if isinstance(private, Ed25519PrivateKey) else None
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}: not a readable PEM key ({exc})") from exc
            if not isinstance(public, Ed25519PublicKey) or (private is not None and not isinstance(private, Ed25519PrivateKey)):
                raise ValueError(f"{path}: not an Ed25519 key")
            found[key_id] = IssuerKey(key_id, public, private, _created_from(key_id, path))
        return cls(tuple(found.values()), directory)

    @property
    def current(self) -> IssuerKey:
        """The newest key that can sign; raises :class:`NoIssuerKey`."""
        for key in reversed(self.keys):
            if key.private_key is not None:
                return key
        raise NoIssuerKey(self.directory)

    def find(self, key_id: str) -> IssuerKey | None:
        return next((key for key in self.keys if key.key_id == key_id), None)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` atomically with ``mode``; raises ``FileExistsError`` rather than overwrite.

    The bytes go to a temporary file created with the final mode (never readable by others, even
    for a moment), are fsynced, then hard-linked into place: a crash leaves either no key file
    or a whole one, and an existing key is never replaced.
    """
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def generate_key(directory: Path | str, *, now: datetime | None = None) -> IssuerKey:
    """Create a new Ed25519 key as ``<key_id>.pem`` (PKCS8, mode 0600) and return it.

    The directory is created 0700 if missing. ``key_id`` is ``key-<UTC time>``, with ``-2``,
    ``-3``... when a key was already made in the same second. Raises ``OSError`` when the
    directory cannot be written.
    """
    directory = Path(directory)
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    base = "key-" + now.strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        key_id = base if n == 1 else f"{base}-{n}"
        if (directory / f"{key_id}{_PUBLIC_SUFFIX}").exists():
            continue
        try:
            _write_new(directory / f"{key_id}.pem", pem, 0o600)
        except FileExistsError:
            continue
        return IssuerKey(key_id, private.public_key(), private, now)
    raise FileExistsError(f"too many keys created at {base} in {directory}")


def retire_private_part(directory: Path | str, key_id: str) -> None:
    """Keep only the public part of ``key_id``: write ``<key_id>.pub.pem``, remove the private file.

    Raises ``FileNotFoundError`` when there is no private file for ``key_id``.
    """
    directory = Path(directory)
    private_path = directory / f"{key_id}.pem"
    private = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    public_path = directory / f"{key_id}{_PUBLIC_SUFFIX}"
    if not public_path.exists():
        _write_new(public_path, pem, 0o644)
    private_path.unlink()
