"""E-mail for notifications: composed in the recipient's language (plain text and HTML), sent on
one SMTP connection per batch, each one marked sent right after the server accepts it.

Idempotency: a message is sent only while its notification's mail_state is still pending (or
digest), and its Message-ID is derived from the notification, so a retried job sends only what was
not accepted before. The sent markers are committed by a thread of their own (SentMarks) as each
accept comes back, so the next message goes out while the commit runs; only the message or two
accepted in the instant before a worker dies can go twice, and then with the same Message-ID.
"""
from __future__ import annotations

import hashlib
import json
import logging
import queue
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, get_locale, gettext
from markupsafe import escape
from itsdangerous import BadSignature, Signer
from sqlalchemy import select, update

from lms.auth.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.outage import retry_through_outage
from lms.notifications import mime
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


def message_id(key: str) -> str:
    """Stable per notification (or digest), so a resent message is recognisably the same one."""
    domain = urlsplit(current_app.config["APP_ORIGIN"]).hostname or "kakehashi.invalid"
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
            message_id=message_id(f"notification-{to.id}"), text=text, html=html,
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


def _send(smtp: smtplib.SMTP, envelope_from: str, message: Composed) -> bool:
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


def _mark(ids: list[int], state: str, waiting: str) -> None:
    db.session.execute(update(Notification).where(Notification.id.in_(ids), Notification.mail_state == waiting)
                       .values(mail_state=state, mailed_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()


class SentMarks(threading.Thread):
    """Commits sent markers on a connection of its own as the server's accepts come back; what was
    accepted while one commit ran goes into the next (a group commit). A database outage is waited
    out; if it lasts, the sender stops and the job retries (the unmarked messages go again)."""

    def __init__(self, app: Flask, waiting: str):
        super().__init__(daemon=True, name="sent-marks")
        self.app, self.waiting = app, waiting
        self.inbox: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.stopping = threading.Event()

    def add(self, notification_id: int, state: MailState) -> None:
        if self.error is not None:
            raise MailUnavailable(f"sent markers cannot be saved: {self.error}")
        self.inbox.put((notification_id, state.value))

    def run(self) -> None:
        with self.app.app_context():
            try:
                while True:
                    first = self.inbox.get()
                    batch = [first] + [self.inbox.get_nowait() for _ in range(self.inbox.qsize())]
                    by_state: dict[str, list[int]] = {}
                    for item in batch:
                        if item is not None:
                            by_state.setdefault(item[1], []).append(item[0])
                    for state, ids in by_state.items():
                        retry_through_outage(lambda ids=ids, state=state: _mark(ids, state, self.waiting),
                                             what="saving sent markers", stop=self.stopping)
                    if None in batch:
                        return
            except BaseException as exc:  # noqa: BLE001 - handed to the sending thread
                self.error = exc
            finally:
                db.session.remove()

    def close(self) -> None:
        """Wait until every marker is committed; re-raise a failure."""
        self.inbox.put(None)
        self.join()
        if self.error is not None:
            raise MailUnavailable(f"sent markers cannot be saved: {self.error}") from self.error


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


def send_pending(where, *, extra: dict | None = None, check: Callable[[], None] | None = None) -> int:
    """Mail every pending notification matching `where` on one SMTP connection; each one's sent
    marker is committed as soon as the server accepts it. Returns how many were accepted. No
    transaction stays open while talking to the server. Raises MailUnavailable (retry later)."""
    if not current_app.config.get("SMTP_HOST"):
        return 0
    pending = Notification.mail_state == MailState.PENDING.value
    batch = _outgoing(pending & where, 0, SEND_BATCH)
    db.session.commit()  # end the read before the first byte goes out
    if not batch:
        return 0
    sent = 0
    marks = SentMarks(current_app._get_current_object(), MailState.PENDING.value)
    marks.start()
    try:
        with connection() as smtp, links():
            compose = Composer()
            while batch:
                last_id = batch[-1].id
                for locale, group in groupby(sorted(batch, key=lambda o: (o.locale, o.id)), key=lambda o: o.locale):
                    with force_locale(locale):  # switching language costs: once per language per batch
                        for item in group:
                            if check is not None:
                                check()
                            item.extra = extra or {}
                            accepted = _send(smtp, compose.envelope_from, compose(item))
                            marks.add(item.id, MailState.SENT if accepted else MailState.REFUSED)
                            sent += accepted
                batch = _outgoing(pending & where, last_id, SEND_BATCH)
                db.session.commit()
    finally:
        marks.close()
    return sent


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


def send_digests(before, *, check: Callable[[], None] | None = None) -> int:
    """One e-mail per person with every notification waiting for the digest created before `before`,
    marked sent in one commit right after the server accepts it. Returns how many were accepted."""
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
            accepted = _send(smtp, mime.sender(current_app.config["MAIL_FROM"])[0], message)
            _mark(ids, (MailState.SENT if accepted else MailState.REFUSED).value, MailState.DIGEST.value)
            sent += accepted
    return sent
