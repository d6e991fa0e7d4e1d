"""Kakehashi LMS: the application factory. No queries run here."""
from __future__ import annotations

import os

from flask import Flask

from lms import config


def create_app(overrides: dict | None = None) -> Flask:
    # instance/ holds the generated secret key and the SQLite file; tests and deployments move it.
    instance_path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("LMS_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    config.load(app, overrides)
    if app.config["PRODUCTION"]:
        config.check_issuer_key(app)
    from lms.uploads.spooling import SpoolingRequest
    app.request_class = SpoolingRequest  # submission files go to storage in one pass, hashed on the way
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_commands(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only as many hops as are really ours: a student could forge any further X-Forwarded-For entries.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def register_extensions(app: Flask) -> None:
    from pathlib import Path

    from lms.extensions import babel, csrf, db, login_manager, migrate
    from lms.i18n import install_fast_gettext, select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_fast_gettext(app)
    login_manager.init_app(app)
    from lms import models  # noqa: F401  the whole schema, for Alembic and relationships
    from lms import sqlite  # noqa: F401  per-connection SQLite pragmas
    from lms.auth import session  # noqa: F401  registers the user loader


def register_blueprints(app: Flask) -> None:
    from lms.admin.views import bp as admin_bp
    from lms.auth.views import bp as auth_bp
    from lms.catalog.authoring import bp as authoring_bp
    from lms.catalog.views import bp as catalog_bp
    from lms.people.views import bp as people_bp
    from lms.assignments import builds, views as assignments
    from lms.video import views as video
    from lms.grading import views as grading
    from lms.records import views as records

    for bp in (auth_bp, catalog_bp, authoring_bp, people_bp, admin_bp):
        app.register_blueprint(bp)
    video.register(app)
    grading.register(app)
    assignments.register(app)
    builds.register(app)  # also registers the game_build job handler
    from lms.records import export_views
    export_views.register(app)  # also registers the transcript_export job handler
    records.register(app)
    from lms.credentials import views as credentials
    credentials.register(app)  # /.well-known/did.json, the status list, /verify
    from lms import metrics, ops
    ops.register(app)  # /healthz for load balancers and monitors
    metrics.register(app)  # /metrics for Prometheus
    from lms.uploads import views as uploads
    uploads.register(app)  # large files in resumable parts, straight to S3 where configured
    from lms.portfolio import views as portfolio
    portfolio.register(app)  # the student's editor, and the public /p/<token> pages employers open
    from lms.community import views as community
    community.register(app)  # announcements
    from lms.notifications import views as notifications
    notifications.register(app)  # the bell, preferences, unsubscribe; also registers the notify jobs


def register_request_hooks(app: Flask) -> None:
    from lms.auth.session import register_session_hooks
    from lms.errors import register_error_handlers
    from lms.i18n import register_template_helpers
    from lms.navigation import register as register_navigation
    from lms.security import register_security_headers

    register_error_handlers(app)
    register_security_headers(app)
    register_session_hooks(app)
    register_template_helpers(app)
    register_navigation(app)
    from lms import static_gzip
    static_gzip.register(app)  # hls.js and the player's scripts gzipped: a weak link starts sooner


def register_commands(app: Flask) -> None:
    from lms.cli import lms_cli

    app.cli.add_command(lms_cli)
