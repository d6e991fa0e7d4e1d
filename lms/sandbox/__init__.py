"""The sandbox origin: a second, tiny WSGI app that serves extracted game builds and nothing else.

It runs on LMS_SANDBOX_ORIGIN, another host than the app, so a build's scripts can neither read the
app's cookies nor call its API as the student. It has no session and no login: it never reads or
sets a cookie, and its only credential is the signed token in the URL. It shares the app's
configuration loading, database and MEDIA_ROOT.

    flask --app lms lms sandbox                                  # development (`make run` starts it)
    gunicorn --bind 0.0.0.0:8001 'lms.sandbox:create_sandbox_app()'  # production
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response
from flask.sessions import SessionInterface
from werkzeug.exceptions import HTTPException

from lms import config

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # lms/, so MEDIA_ROOT and instance/ match the app's


def create_sandbox_app(overrides: dict | None = None) -> Flask:
    instance_path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("LMS_INSTANCE_PATH")
    app = Flask("lms.sandbox", root_path=str(PACKAGE_ROOT), instance_path=instance_path,
                instance_relative_config=True, static_folder=None, template_folder=None)
    config.load(app, overrides)
    app.session_interface = NoSessions()
    register_extensions(app)
    register_routes(app)
    register_headers(app)
    register_error_handlers(app)
    return app


class NoSessions(SessionInterface):
    """Every request gets Flask's read-only null session, and nothing is ever saved."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response) -> None:
        return None


def register_extensions(app: Flask) -> None:
    from lms.extensions import db

    db.init_app(app)
    from lms import models  # noqa: F401  the whole schema, for relationships
    from lms import sqlite  # noqa: F401  per-connection SQLite pragmas


def register_routes(app: Flask) -> None:
    from lms.sandbox.serving import bp

    app.url_map.merge_slashes = False  # a 404, never a redirect, for a path that is not a build file
    app.register_blueprint(bp)


def register_headers(app: Flask) -> None:
    csp = content_security_policy(app.config["APP_ORIGIN"])

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The token is in every URL: never let it leave in a Referer header.
        response.headers["Referrer-Policy"] = "no-referrer"
        # Nothing here sets cookies; this makes sure a future change cannot either.
        response.headers.remove("Set-Cookie")
        return response


def content_security_policy(app_origin: str) -> str:
    """Unity and Godot need eval and WebAssembly, so scripts are loose; the confinement comes from
    the separate origin, the iframe sandbox and `frame-ancestors`. The `sandbox` directive keeps a
    build confined even when its URL is opened outside the app's iframe."""
    return "; ".join([
        "default-src 'self' blob: data:",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: data:",
        "font-src 'self' blob: data:",
        "connect-src 'self' blob: data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        f"frame-ancestors {app_origin}",
        "form-action 'none'",
        "base-uri 'none'",
        "sandbox allow-scripts allow-pointer-lock",
    ])


def register_error_handlers(app: Flask) -> None:
    # Plain text: the sandbox has no templates and nothing to explain beyond the status.
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return Response(f"{exc.code} {exc.name}\n", status=exc.code, mimetype="text/plain")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("Unhandled error in the sandbox")
        return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")
