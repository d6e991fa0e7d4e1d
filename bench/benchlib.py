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
