"""What the benchmarks share: an app on a throwaway database whose schema the migrations built."""
from __future__ import annotations

import contextlib
import io
import sys

import flask_migrate

from lms import create_app


def migrated_app(config: dict):
    """create_app(config), then `flask db upgrade`; alembic's chatter is shown only if it fails."""
    app = create_app(config)
    from lms.extensions import db

    log = io.StringIO()
    try:
        with app.app_context(), contextlib.redirect_stderr(log):
            flask_migrate.upgrade()
            db.engine.dispose()
    except BaseException:
        print(log.getvalue(), file=sys.stderr)
        raise
    return app


def production_config(work, url: str, **extra) -> dict:
    """The app as in production (LMS_PRODUCTION) on `url`, its folders and an issuer key in `work`
    (production refuses to start without one)."""
    from pathlib import Path

    from lms.credentials.keys import generate_key

    root = Path(__file__).resolve().parent.parent
    generate_key(work / "issuer-keys")
    return {"PRODUCTION": True, "DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"),
            "MEDIA_ROOT": str(work / "media"), "ISSUER_KEY_DIR": str(work / "issuer-keys"),
            "COURSES_DIR": str(root / "courses"), **extra}
