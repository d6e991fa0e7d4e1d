"""`flask lms backup` then `flask lms restore`, on SQLite and on PostgreSQL: after losing the data,
the media and the signing keys, everything is back, and a credential signed before still verifies."""
from __future__ import annotations

import io
import shutil
import stat
from pathlib import Path

from sqlalchemy import func, select

from lms.auth.models import User
from lms.credentials import services as credentials
from lms.extensions import db
from lms.storage import get_storage
from tests.conftest import empty_tables


def test_backup_and_restore_bring_back_database_media_and_keys(app, runner, make, tmp_path):
    student = make.user(email="aziz@example.test")
    get_storage().put_stream("submissions/kept.png", io.BytesIO(b"\x89PNG kept"), max_bytes=100)
    issued = credentials.issue({"@context": ["https://www.w3.org/ns/credentials/v2"],
                                "type": ["VerifiableCredential"], "credentialSubject": {"id": "urn:x"}},
                               kind="clr", student_id=student.id, proof="jose")
    db.session.commit()
    token = issued.token
    folder = tmp_path / "backup-1"

    made = runner.invoke(args=["lms", "backup", str(folder)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # private keys and personal data inside
    assert runner.invoke(args=["lms", "backup", str(folder)]).exit_code != 0  # never into a used folder

    # Disaster: the rows, the file and the keys are gone.
    db.session.remove()
    empty_tables()
    shutil.rmtree(app.config["ISSUER_KEY_DIR"])
    (Path(app.config["MEDIA_ROOT"]) / "submissions/kept.png").unlink()
    assert db.session.scalar(select(func.count(User.id))) == 0

    back = runner.invoke(args=["lms", "restore", str(folder), "--yes"])
    assert back.exit_code == 0, back.output
    db.session.remove()
    assert db.session.scalar(select(User.email)) == "aziz@example.test"
    assert (Path(app.config["MEDIA_ROOT"]) / "submissions/kept.png").read_bytes() == b"\x89PNG kept"
    assert credentials.verify(token).status == "valid"  # the same key, and its status list, are back


def test_restore_refuses_a_folder_that_is_not_a_backup(app, runner, tmp_path):
    result = runner.invoke(args=["lms", "restore", str(tmp_path), "--yes"])
    assert result.exit_code != 0 and "holds no Kakehashi backup" in result.output
