"""E-mail for notifications: composed in the recipient's language (plain text and HTML), sent on
one SMTP connection per batch, each marked sent in its own commit right after the server accepts it.

Idempotency: a message is sent only while its notification's mail_state is still pending (or
digest), and its Message-ID is derived from the notification, so a retried job sends only what was
not accepted before; the one message in flight when a worker dies between the server's accept and
the commit is the only one that can go twice, and it then carries the same Message-ID.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from lms.auth.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.notifications.kinds import summary
from lms.notifications.models import MailState, Notification

log = logging.getLogger(__name__)
SEND_BATCH = 200  # notifications read per query while sending


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


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notifications-unsubscribe")


def unsubscribe_token(user_id: int, kind: str) -> str:
    """Never expires: a link in a mail from last year still stops that kind of mail."""
    return _serializer().dumps({"u": user_id, "k": kind})


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("k"), str):
        return None
    return data["u"], data["k"]


def message_id(key: str) -> str:
    """Stable per notification (or digest), so a resent message is recognisably the same one."""
    domain = urlsplit(current_app.config["APP_ORIGIN"]).hostname or "kakehashi.invalid"
    return f"<{key}@{domain}>"


def absolute(path: str) -> str:
    return current_app.config["APP_ORIGIN"] + path


def compose(to: Outgoing) -> EmailMessage:
    """The notification's e-mail, worded in the recipient's language."""
    config = current_app.config
    with force_locale(to.locale):
        subject = summary(to.kind, to.params)
        unsubscribe = absolute(url_for("notifications.unsubscribe", token=unsubscribe_token(to.user_id, to.kind)))
        context = {"to": to, "subject": subject, "link": absolute(to.link), "unsubscribe": unsubscribe,
                   "preferences": absolute(url_for("auth.preferences")), **to.extra}
        text = render_template("notifications/mail/notification.txt", **context)
        html = render_template("notifications/mail/notification.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = formataddr((to.name, to.email))
    message["Message-ID"] = message_id(f"notification-{to.id}")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: mail apps POST to it
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


@contextmanager
def links() -> Iterator[None]:
    """Jobs build the mails' links with url_for, as pages do: against LMS_APP_ORIGIN."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=current_app.config["APP_ORIGIN"]):
        yield


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


def _send(smtp: smtplib.SMTP, message: EmailMessage) -> bool:
    """True when accepted; False when the server refused the address for good (5xx). Anything
    temporary (4xx, a dropped connection) raises MailUnavailable."""
    try:
        smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            return False
        raise MailUnavailable(f"recipient refused for now: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600 and exc.smtp_code not in (552,):
            return False
        raise MailUnavailable(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(str(exc) or type(exc).__name__) from exc
    return True


def _mark(ids: list[int], state: MailState, waiting: str) -> None:
    """The sent marker, committed at once: once the server has accepted, nothing may undo it."""
    db.session.execute(update(Notification).where(Notification.id.in_(ids), Notification.mail_state == waiting)
                       .values(mail_state=state.value, mailed_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _outgoing(where, after_id: int, limit: int) -> list[Outgoing]:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    rows = db.session.execute(
        select(Notification.id, Notification.kind, Notification.params, Notification.link, User.email,
               User.name_latin, User.locale, User.id)
        .join(User, User.id == Notification.user_id)
        .where(where, Notification.id > after_id, User.disabled.is_(False))
        .order_by(Notification.id).limit(limit)).all()
    return [Outgoing(id=r[0], kind=r[1], params=r[2] or {}, link=r[3], email=r[4], name=r[5],
                     locale=r[6] or default, user_id=r[7]) for r in rows]


def send_pending(where, *, extra: Callable[[Outgoing], dict] | None = None,
                 check: Callable[[], None] | None = None) -> int:
    """Mail every pending notification matching `where` on one SMTP connection, committing each
    one's sent marker as soon as the server accepts it. Returns how many were accepted. No
    transaction stays open while talking to the server. Raises MailUnavailable (retry later)."""
    if not current_app.config.get("SMTP_HOST"):
        return 0
    pending = Notification.mail_state == MailState.PENDING.value
    batch = _outgoing(pending & where, 0, SEND_BATCH)
    db.session.commit()  # end the read before the first byte goes out
    if not batch:
        return 0
    sent = 0
    with connection() as smtp, links():
        while batch:
            for item in batch:
                if check is not None:
                    check()
                if extra is not None:
                    item.extra = extra(item)
                accepted = _send(smtp, compose(item))
                _mark([item.id], MailState.SENT if accepted else MailState.REFUSED, MailState.PENDING.value)
                sent += accepted
            batch = _outgoing(pending & where, batch[-1].id, SEND_BATCH)
            db.session.commit()
    return sent


def compose_digest(user: User, items: list[Notification]) -> EmailMessage:
    config = current_app.config
    locale = user.locale or config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        from flask_babel import gettext

        subject = gettext("Kakehashi: %(n)d new notifications", n=len(items))
        lines = [(summary(n.kind, n.params), absolute(n.link)) for n in items]
        context = {"subject": subject, "lines": lines, "preferences": absolute(url_for("auth.preferences")),
                   "name": user.name_latin}
        text = render_template("notifications/mail/digest.txt", **context)
        html = render_template("notifications/mail/digest.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = formataddr((user.name_latin, user.email))
    message["Message-ID"] = message_id(f"digest-{user.id}-{items[0].id}-{items[-1].id}")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_digests(before, *, check: Callable[[], None] | None = None) -> int:
    """One e-mail per person with every notification waiting for the digest created before `before`.
    Returns how many digests were accepted."""
    if not current_app.config.get("SMTP_HOST"):
        return 0
    waiting = (Notification.mail_state == MailState.DIGEST.value) & (Notification.created_at < before)
    user_ids = list(db.session.scalars(select(Notification.user_id).where(waiting).distinct()))
    db.session.commit()
    if not user_ids:
        return 0
    sent = 0
    with connection() as smtp, links():
        for user_id in user_ids:
            if check is not None:
                check()
            user = db.session.get(User, user_id)
            items = list(db.session.scalars(select(Notification).where(waiting, Notification.user_id == user_id)
                                            .order_by(Notification.id)))
            message = compose_digest(user, items) if items and not user.disabled else None
            ids = [n.id for n in items]
            db.session.commit()
            if message is None:
                continue
            accepted = _send(smtp, message)
            _mark(ids, MailState.SENT if accepted else MailState.REFUSED, MailState.DIGEST.value)
            sent += accepted
    return sent

