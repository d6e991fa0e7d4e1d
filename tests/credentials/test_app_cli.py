"""`flask lms keys ...`, `flask lms credentials ...`, and production's refusal to start without a key."""
from __future__ import annotations

import copy
import json

import pytest

from lms import create_app
from lms.config import ConfigError
from lms.credentials import services
from lms.credentials.keys import KeyRing, generate_key, retire_private_part
from lms.credentials.models import IssuedCredential
from lms.extensions import db
from tests.conftest import TEST_SECRET
from tests.credentials.test_app_services import foreign_credential, issue

PRODUCTION = {"PRODUCTION": True, "SECRET_KEY": TEST_SECRET, "APP_ORIGIN": "https://lms.jdu.uz",
              "SANDBOX_ORIGIN": "https://jdu-play.net"}


def test_keys_rotate_adds_a_key_and_keeps_the_old_one(app, runner, client):
    first = runner.invoke(args=["lms", "keys", "rotate"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["lms", "keys", "rotate"])
    ring = KeyRing.load(app.config["ISSUER_KEY_DIR"])
    assert len(ring.keys) == 2 and ring.current.key_id in second.output
    assert services.issuer_did() in second.output
    document = json.loads(client.get("/.well-known/did.json").data)
    assert [m["id"].split("#")[1] for m in document["verificationMethod"]] == [k.key_id for k in ring.keys]

    listing = runner.invoke(args=["lms", "keys", "list"])
    assert listing.exit_code == 0
    lines = listing.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == [k.key_id for k in ring.keys]
    assert lines[-1].endswith("current") and lines[0].endswith("older")


def test_keys_list_without_keys_says_how_to_make_one(runner):
    result = runner.invoke(args=["lms", "keys", "list"])
    assert result.exit_code == 0 and "flask lms keys rotate" in result.output


def test_a_credential_from_before_the_rotation_still_verifies_on_the_cli(app, make, runner, tmp_path):
    row = issue(make.user())
    assert runner.invoke(args=["lms", "keys", "rotate"]).exit_code == 0
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(row.document))
    result = runner.invoke(args=["lms", "credentials", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "valid" and "signature" in result.output


def test_a_retired_key_still_verifies_but_no_longer_signs(app, make):
    row = issue(make.user())
    old = services.current_key()
    retire_private_part(app.config["ISSUER_KEY_DIR"], old.key_id)
    newer = generate_key(app.config["ISSUER_KEY_DIR"])
    assert services.current_key().key_id == newer.key_id
    assert services.verify(row.document).status == "valid"


@pytest.mark.parametrize("change, status", [
    (lambda doc: doc.update(name="TC001 Game design I (forged)"), "tampered"),
    (None, "revoked"),
])
def test_cli_verify_exits_1_unless_valid(app, make, runner, tmp_path, change, status):
    row = issue(make.user())
    document = copy.deepcopy(row.document)
    if change:
        change(document)
    else:
        services.revoke(row, "wrong student", None)
        db.session.commit()
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(args=["lms", "credentials", "verify", str(path)])
    assert result.exit_code == 1 and result.output.splitlines()[0] == status


def test_cli_verify_of_other_issuers_and_garbage(app, make, runner, tmp_path):
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(foreign_credential(tmp_path, make.user())))
    result = runner.invoke(args=["lms", "credentials", "verify", str(foreign)])
    assert result.exit_code == 1 and result.output.startswith("unknown_issuer")
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\x00\xffnot a credential")
    result = runner.invoke(args=["lms", "credentials", "verify", str(garbage)])
    assert result.exit_code == 1 and result.output.startswith("malformed")


def test_cli_verify_of_a_jws_from_stdin(app, make, runner):
    row = issue(make.user(), proof="jose")
    result = runner.invoke(args=["lms", "credentials", "verify", "-"], input=row.token)
    assert result.exit_code == 0 and result.output.startswith("valid")


def test_cli_verify_without_a_database_leaves_the_status_unchecked(app_with, app, make, tmp_path):
    row = issue(make.user())
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(row.document))
    offline = app_with(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'none.sqlite3'}",
                       ISSUER_KEY_DIR=app.config["ISSUER_KEY_DIR"])
    with offline.app_context():  # the CLI uses the app whose context is pushed
        result = offline.test_cli_runner().invoke(args=["lms", "credentials", "verify", str(path)])
    assert result.exit_code == 0, result.output  # the signature is JDU's; the list could not be read
    assert "?" in result.output and "status" in result.output


def test_cli_revoke(app, make, runner):
    row = issue(make.user())
    result = runner.invoke(args=["lms", "credentials", "revoke", row.id, "--reason", "issued by mistake"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    revoked = db.session.get(IssuedCredential, row.id)
    assert revoked.revoked_reason == "issued by mistake" and revoked.revoked_by_id is None
    again = runner.invoke(args=["lms", "credentials", "revoke", row.id, "--reason", "again"])
    assert again.exit_code == 1 and "already" in again.output
    missing = runner.invoke(args=["lms", "credentials", "revoke", "urn:uuid:nope", "--reason", "x"])
    assert missing.exit_code == 1 and "no credential" in missing.output


def test_production_refuses_to_start_without_an_issuer_key(tmp_path):
    with pytest.raises(ConfigError, match="flask lms keys rotate") as refused:
        create_app({"INSTANCE_PATH": str(tmp_path), **PRODUCTION})
    assert "LMS_ISSUER_KEY_DIR" in str(refused.value)
    assert not (tmp_path / "issuer-keys").exists()  # and it made none itself


def test_production_refuses_public_only_keys_and_starts_with_a_private_one(tmp_path):
    keys = tmp_path / "keys"
    retire_private_part(keys, generate_key(keys).key_id)
    with pytest.raises(ConfigError, match="no private key"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ISSUER_KEY_DIR": str(keys), **PRODUCTION})
    generate_key(keys)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ISSUER_KEY_DIR": str(keys), **PRODUCTION})
    assert app.config["ISSUER_KEY_DIR"] == str(keys)


def test_the_key_directory_defaults_to_instance(tmp_path, monkeypatch):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["ISSUER_KEY_DIR"] == str(tmp_path / "issuer-keys")
    monkeypatch.setenv("LMS_ISSUER_KEY_DIR", "keys-elsewhere")  # relative: inside instance/, like the others
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["ISSUER_KEY_DIR"] == str(tmp_path / "keys-elsewhere")
