"""Notification e-mail: composed in the recipient's language (plain text and HTML, with a signed
unsubscribe link per kind and a Message-ID stable per notification), and the SMTP session it goes
out on. Sending many, idempotently, is lms/notifications/delivery.py.
"""
from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, get_locale, gettext
from itsdangerous import BadSignature, Signer
from markupsafe import escape

from lms.auth.models import User
from lms.notifications import mime
from lms.notifications.kinds import summary
from lms.notifications.models import Notification


@dataclass
class Outgoing:
    """One notification to mail, with what its recipient's e-mail needs."""

    id: int
    kind: str
    params: dict
    link: str
    email: str
    name: str
    locale: str
    user_id: int
    extra: dict = field(default_factory=dict)


class MailUnavailable(RuntimeError):
    """The mail server could not be reached or refused for now: the job retries later."""


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="notifications-unsubscribe", digest_method=hashlib.sha256)


def unsubscribe_token(user_id: int, kind: str) -> str:
    """Never expires: a link in a mail from last year still stops that kind of mail."""
    return _signer().sign(f"{user_id}-{kind}").decode("ascii")


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        value = _signer().unsign(token).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
    user_id, _, kind = value.partition("-")
    return (int(user_id), kind) if user_id.isdigit() and kind else None


def message_id(key: str, domain: str | None = None) -> str:
    """Stable per notification (or digest), so a resent message is recognisably the same one."""
    domain = domain or urlsplit(current_app.config["APP_ORIGIN"]).hostname or "kakehashi.invalid"
    return f"<{key}@{domain}>"


def absolute(path: str) -> str:
    return current_app.config["APP_ORIGIN"] + path


@contextmanager
def links() -> Iterator[None]:
    """Jobs build the mails' links with url_for, as pages do: against LMS_APP_ORIGIN."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=current_app.config["APP_ORIGIN"]):
        yield


@dataclass(frozen=True)
class Composed:
    to: str  # the envelope recipient
    data: bytes


@dataclass(frozen=True)
class Letter:
    """One event's e-mail in one language, rendered once: only the reader's name and unsubscribe link
    differ between its 600 readers, and stand here as placeholders (rendering both templates and their
    nine translated phrases per reader cost more than the mail server's whole accept)."""

    subject: str
    text: str
    html: str


_NAME, _UNSUBSCRIBE = "\x00name\x00", "\x00unsubscribe\x00"


def _letter(to: Outgoing) -> Letter:
    subject = summary(to.kind, to.params)
    context = {"name": _NAME, "subject": subject, "link": absolute(to.link), "unsubscribe": _UNSUBSCRIBE,
               "preferences": absolute(url_for("auth.preferences")), **to.extra}
    return Letter(subject, render_template("notifications/mail/notification.txt", **context),
                  render_template("notifications/mail/notification.html", **context))


class Composer:
    """Composes notifications' e-mails in the current locale (the caller sets each recipient's)."""

    def __init__(self):
        self.letters: dict[tuple, Letter] = {}
        self.envelope_from, self.from_header = mime.sender(current_app.config["MAIL_FROM"])
        self.unsubscribe_base = absolute(url_for("notifications.unsubscribe", token="_"))[:-1]
        self.domain = urlsplit(current_app.config["APP_ORIGIN"]).hostname or "kakehashi.invalid"

    def __call__(self, to: Outgoing) -> Composed:
        key = (get_locale_name(), to.kind, to.link, json.dumps(to.params, sort_keys=True))  # one send: one extra
        letter = self.letters.get(key)
        if letter is None:
            letter = self.letters[key] = _letter(to)
        unsubscribe = self.unsubscribe_base + unsubscribe_token(to.user_id, to.kind)
        text = letter.text.replace(_NAME, to.name).replace(_UNSUBSCRIBE, unsubscribe)
        html = letter.html.replace(_NAME, str(escape(to.name))).replace(_UNSUBSCRIBE, str(escape(unsubscribe)))
        data = mime.build(
            from_header=self.from_header, to=mime.address(to.name, to.email), subject=letter.subject,
            message_id=message_id(f"notification-{to.id}", self.domain), text=text, html=html,
            headers={"List-Unsubscribe": f"<{unsubscribe}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058: mail apps POST to it
                     "Auto-Submitted": "auto-generated"})
        return Composed(to.email, data)


def get_locale_name() -> str:
    locale = get_locale()
    return str(locale) if locale else ""


@contextmanager
def connection() -> Iterator[smtplib.SMTP]:
    """An SMTP session as configured (LMS_SMTP_*). Raises MailUnavailable when it cannot start."""
    config = current_app.config
    host, port, timeout = config["SMTP_HOST"], int(config["SMTP_PORT"]), float(config["SMTP_TIMEOUT"])
    try:
        if config["SMTP_TLS"] == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if config["SMTP_TLS"] == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(str(config["SMTP_USER"]), str(config["SMTP_PASSWORD"] or ""))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(f"cannot start an SMTP session with {host}:{port}: {exc}") from exc
    try:
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def send(smtp: smtplib.SMTP, envelope_from: str, message: Composed) -> bool:
    """True when accepted; False when the server refused the address for good (5xx). Anything
    temporary (4xx, a dropped connection) raises MailUnavailable."""
    try:
        smtp.sendmail(envelope_from, [message.to], message.data)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            return False
        raise MailUnavailable(f"recipient refused for now: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600 and exc.smtp_code != 552:  # 552: storage exceeded, worth a retry
            return False
        raise MailUnavailable(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(str(exc) or type(exc).__name__) from exc
    return True


def compose_digest(user: User, items: list[Notification]) -> Composed:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = gettext("Kakehashi: %(n)d new notifications", n=len(items))
        lines = [(summary(n.kind, n.params), absolute(n.link)) for n in items]
        context = {"subject": subject, "lines": lines, "preferences": absolute(url_for("auth.preferences")),
                   "name": user.name_latin}
        text = render_template("notifications/mail/digest.txt", **context)
        html = render_template("notifications/mail/digest.html", **context)
    _envelope, from_header = mime.sender(current_app.config["MAIL_FROM"])
    return Composed(user.email, mime.build(
        from_header=from_header, to=mime.address(user.name_latin, user.email), subject=subject,
        message_id=message_id(f"digest-{user.id}-{items[0].id}-{items[-1].id}"), text=text, html=html,
        headers={"Auto-Submitted": "auto-generated"}))
