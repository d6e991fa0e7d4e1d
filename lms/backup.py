"""`flask lms backup DIR` and `flask lms restore DIR`: the database, the media on disk and the issuer's
signing keys, in one folder that restores a working Kakehashi.

PostgreSQL is dumped with pg_dump's custom format (consistent while the app runs: one snapshot) and
restored with pg_restore; SQLite with its online backup API. Media in a bucket are not copied: turn
on the bucket's versioning (and replication) instead, see the README. The folder holds private keys
and personal data: it is created readable by its owner only.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from lms.extensions import db

MANIFEST = "kakehashi-backup.json"
PG_DUMP, SQLITE_COPY, MEDIA, KEYS = "database.pgdump", "database.sqlite3", "media.tar.gz", "issuer-keys"
SKIPPED_IN_MEDIA = (".spool", "uploads")  # half-received files; nothing points at them


class BackupError(Exception):
    pass


def _libpq_url() -> str:
    """The database URL as pg_dump reads it (no SQLAlchemy driver name)."""
    return make_url(current_app.config["DATABASE_URL"]).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _run(argv: list[str]) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=6 * 3600)
    except FileNotFoundError:
        raise BackupError(f"{argv[0]} is not installed (Debian package postgresql-client).") from None
    if result.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {result.stderr.strip()[-800:]}")


def _revision() -> str | None:
    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        db.session.rollback()


def backup(dest: Path) -> dict:
    """Write a backup into `dest` (a new or empty folder); returns the manifest."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; give a new folder for each backup.")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(dest, 0o700)
    config, dialect = current_app.config, db.engine.dialect.name
    manifest = {"made_at": datetime.now(UTC).isoformat(timespec="seconds"), "database": dialect,
                "alembic_revision": _revision(), "storage": config["STORAGE"]}
    db.session.remove()  # no transaction of ours open while the copy runs
    if dialect == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dest / PG_DUMP}",
              f"--dbname={_libpq_url()}"])
    elif dialect == "sqlite":
        source = sqlite3.connect(make_url(config["DATABASE_URL"]).database)
        target = sqlite3.connect(dest / SQLITE_COPY)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        raise BackupError(f"Backups of {dialect} databases are not supported.")
    if config["STORAGE"] == "local":
        root = Path(config["MEDIA_ROOT"])
        with tarfile.open(dest / MEDIA, "w:gz") as archive:
            archive.add(root, arcname="media", filter=lambda info: None if _skipped(info.name) else info)
    keys = Path(config["ISSUER_KEY_DIR"])
    if keys.is_dir():
        shutil.copytree(keys, dest / KEYS)
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    for path in dest.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    return manifest


def _skipped(name: str) -> bool:
    parts = Path(name).parts
    return len(parts) > 1 and parts[1] in SKIPPED_IN_MEDIA


def restore(src: Path) -> dict:
    """Put a backup back: the database (replacing what is there), media and keys. Stop the web app
    and the workers first. Returns the manifest."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{src} holds no Kakehashi backup ({MANIFEST} is missing).") from None
    config, dialect = current_app.config, db.engine.dialect.name
    if manifest["database"] != dialect:
        raise BackupError(f"The backup is of a {manifest['database']} database; this app uses {dialect}.")
    db.session.remove()
    db.engine.dispose()  # nothing of ours holds the database while it is replaced
    if dialect == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              f"--dbname={_libpq_url()}", str(src / PG_DUMP)])
    else:
        target = make_url(config["DATABASE_URL"]).database
        source, copy = sqlite3.connect(src / SQLITE_COPY), sqlite3.connect(target)
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
    if (src / MEDIA).exists():
        root = Path(config["MEDIA_ROOT"])
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(src / MEDIA, "r:gz") as archive:
            for member in archive.getmembers():
                member.name = member.name.split("/", 1)[1] if "/" in member.name else "."
            archive.extractall(root, filter="data")  # no absolute paths, links out or device files
    if (src / KEYS).is_dir():
        shutil.copytree(src / KEYS, config["ISSUER_KEY_DIR"], dirs_exist_ok=True)
    return manifest
