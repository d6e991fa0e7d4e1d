"""`flask lms keys ...` and `flask lms credentials ...`: the issuer's keys, offline verification
and revocation from the command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.extensions import db

keys_cli = AppGroup("keys", help="The issuer's signing keys (files in LMS_ISSUER_KEY_DIR).")
credentials_cli = AppGroup("credentials", help="Signed credentials: verify and revoke.")
MARKS = {True: "ok  ", False: "FAIL", None: "?   "}


@keys_cli.command("rotate")
def rotate() -> None:
    """Make a new current signing key. Older keys stay published so what they signed still verifies."""
    from lms.credentials import services
    from lms.credentials.keys import generate_key

    directory = current_app.config["ISSUER_KEY_DIR"]
    key = generate_key(directory)
    click.echo(f"new current key {key.key_id} in {directory}")
    click.echo(f"issuer DID {services.issuer_did()} (verification method {services.issuer_did()}#{key.key_id})")
    click.echo("Back the key directory up; the web machines need the same files.")


@keys_cli.command("list")
def list_keys() -> None:
    """The keys in the ring, oldest first, and which one signs."""
    from lms.credentials.keys import KeyRing, NoIssuerKey

    ring = KeyRing.load(current_app.config["ISSUER_KEY_DIR"])
    try:
        current = ring.current.key_id
    except NoIssuerKey:
        current = None
    if not ring.keys:
        click.echo(f"no keys in {current_app.config['ISSUER_KEY_DIR']}; run `flask lms keys rotate`")
    for key in ring.keys:
        role = "current" if key.key_id == current else ("public only" if key.private_key is None else "older")
        click.echo(f"{key.key_id}  {key.created.isoformat()}  {key.public_multibase()}  {role}")


@credentials_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
def verify(file: Path) -> None:
    """Verify FILE (JSON or compact JWS; - for stdin) with the local keys; exit 0 only when valid."""
    from lms.credentials import services

    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    verdict = services.verify(data, offline=True)
    click.echo(verdict.status)
    for check in verdict.checks:
        click.echo(f"  {MARKS[check.ok]} {check.name}: {check.detail}")
    if verdict.status != "valid":
        sys.exit(1)


@credentials_cli.command("revoke")
@click.argument("credential_id")
@click.option("--reason", required=True, help="Why; kept with the credential and shown to registrars.")
def revoke(credential_id: str, reason: str) -> None:
    """Revoke the issued credential CREDENTIAL_ID (urn:uuid:...)."""
    from lms.credentials import services
    from lms.credentials.models import IssuedCredential
    from lms.errors import DomainError

    row = db.session.get(IssuedCredential, credential_id)
    if row is None:
        raise click.ClickException(f"no credential {credential_id} was issued")
    try:
        services.revoke(row, reason, None)
    except DomainError as exc:
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(f"revoked {credential_id} (status index {row.status_index})")
