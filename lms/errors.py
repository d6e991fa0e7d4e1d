"""Domain errors and their HTTP faces, in one place.

Services raise `DomainError` subclasses (the caller's mistake, 4xx); views either catch them to
re-render a form with a message, or let them reach the handlers here, which show a friendly page.
Nothing here ever renders a stack trace.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.db import is_outage
from lms.extensions import db

T = TypeVar("T")


class DomainError(Exception):
    """A request the user can fix; `message` is shown to them."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("You do not have permission to see this page.")),
        404: (_("Not found"), _("This page does not exist, or it was moved.")),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        409: (_("Conflict"), _("This change conflicts with the current state. Reload and try again.")),
        413: (_("Too large"), _("The file or form you sent is larger than allowed. Please send a smaller one.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        507: (_("Storage full"), _("The server's storage is full. Please try again later.")),
        500: (_("Something went wrong"), _("An error occurred on our side. It has been logged; please try again later.")),
    }


def render_error(status: int, detail: str | None = None):
    title, text = _messages().get(status, _messages()[500])
    try:
        return render_template("errors/error.html", status=status, title=title, text=detail or text), status
    except Exception as exc:
        if not is_outage(exc):  # the page header reads the account: during an outage it cannot
            raise
        return unavailable()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return render_error(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, _("Your form expired or was sent from another site. "
                                   "Reload the page and submit it again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            app.logger.error("Storage full on %s %s: %s", request.method, request.path, exc)
            return storage_full()
        if is_outage(exc):
            app.logger.error("Database unavailable on %s %s: %s", request.method, request.path, exc)
            return unavailable()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        _rollback_quietly()
        return render_error(500)


def _rollback_quietly() -> None:
    """End the failed request's transaction; on a broken connection that fails too, and the error
    page does not need the database anyway."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        pass


RETRY_AFTER_SECONDS = 30
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def storage_full():
    """507 when the disk under uploads is full: what happened and what to do, and nothing kept
    (the storage layer removes what it had half-written)."""
    _rollback_quietly()
    message = _("The server's storage is full, so your file could not be saved. Nothing was kept; please try "
                "again later, or tell the administrator.")
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(error=message), 507
    return render_error(507, message)


def unavailable():
    """503 while the database is unreachable: a page that needs no database (no account, so the
    language comes from the session cookie or Accept-Language), or JSON for scripts and uploaders."""
    g.database_unavailable = True  # lms.i18n.select_locale then skips the account's language
    # Flask-Login puts current_user into every template's context, loading the account; seen as
    # anonymous here, it is not looked up.
    g._login_user = current_app.login_manager.anonymous_user()
    _rollback_quietly()
    message = _("Kakehashi is temporarily unavailable. Nothing you saved is lost; please try again in a minute.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(error=message), 503, headers
    return render_template("errors/unavailable.html", message=message, retry_after=RETRY_AFTER_SECONDS), 503, headers


def attempt(action: Callable[[], T]) -> T | None:
    """Run one service call for a view: commit on success; on a DomainError roll back, flash its
    message for the user, and return None."""
    from flask import flash

    from lms.extensions import db

    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None
    db.session.commit()
    return result
