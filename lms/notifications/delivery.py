"""Sending notification e-mail: many on one SMTP connection, each marked sent right after the
server accepts it, so a retried job sends only what was not accepted before.

Three stages run at once, since waiting for the mail server's replies is most of the time: a thread
composes the next messages (Composing), the job's thread sends them, and another thread commits the
sent markers as the accepts come back (SentMarks), grouping what was accepted within
MARK_GATHER_SECONDS into one commit. A worker killed outright can therefore send again what the
server accepted in its last 20 ms (at most a dozen messages at full speed), each with the same
Message-ID as the first time; any other failure (the server refusing for now, a dropped connection,
the database gone) leaves every accepted message marked. Gathering 5 ms instead of 20 cost the
marker thread three times the CPU (0.04 s to 0.10-0.15 s for 600 messages, bench/notify.py), and a
commit per message in the sending thread put its fsync between every two messages.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from itertools import groupby

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import exists, select, update

from lms.auth.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.outage import retry_through_outage
from lms.notifications import mime
from lms.notifications.mail import (Composed, Composer, MailUnavailable, Outgoing, compose_digest, connection, links,
                                    send)
from lms.notifications.models import MailState, Notification

SEND_BATCH = 200  # notifications read per query while composing
COMPOSED_AHEAD = 64  # messages composed and waiting to be sent, at most


def _mark(ids: list[int], state: str, waiting: str) -> None:
    db.session.execute(update(Notification).where(Notification.id.in_(ids), Notification.mail_state == waiting)
                       .values(mail_state=state, mailed_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()


MARK_GATHER_SECONDS = 0.02  # accepts that come back this close together share one commit (see above)


class SentMarks(threading.Thread):
    """Commits sent markers on a connection of its own as the server's accepts come back, so the
    next message goes out while the commit runs: each commit carries what was accepted in the few
    milliseconds since the last (a group commit, one UPDATE per outcome). A database outage is
    waited out; if it lasts, the sender stops and the job retries (the unmarked messages go again)."""

    def __init__(self, app: Flask, waiting: str):
        super().__init__(daemon=True, name="sent-marks")
        self.app, self.waiting = app, waiting
        self.lock = threading.Lock()
        self.accepted: list[tuple[int, str]] = []
        self.wake = threading.Event()
        self.closing = False
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.conn = None

    def add(self, notification_id: int, state: MailState) -> None:
        if self.error is not None:
            raise MailUnavailable(f"sent markers cannot be saved: {self.error}")
        with self.lock:
            self.accepted.append((notification_id, state.value))
        self.wake.set()

    def _write(self, by_state: dict[str, list[int]]) -> None:
        """Core on one connection kept for the thread's life: the least work per commit."""
        table = Notification.__table__
        if self.conn is None:
            self.conn = db.engine.connect()
        try:
            with self.conn.begin():
                for state, ids in by_state.items():
                    self.conn.execute(update(table).where(table.c.id.in_(ids), table.c.mail_state == self.waiting)
                                      .values(mail_state=state, mailed_at=utcnow()))
        except Exception:
            self.conn.close()  # a broken connection is not reused: the retry connects anew
            self.conn = None
            raise

    def run(self) -> None:
        with self.app.app_context():
            try:
                while True:
                    self.wake.wait()
                    if not self.closing:
                        time.sleep(MARK_GATHER_SECONDS)
                    with self.lock:
                        batch, self.accepted = self.accepted, []
                        self.wake.clear()
                        last = self.closing
                    by_state: dict[str, list[int]] = {}
                    for notification_id, state in batch:
                        by_state.setdefault(state, []).append(notification_id)
                    if by_state:
                        retry_through_outage(lambda: self._write(by_state), what="saving sent markers",
                                             stop=self.stopping)
                    if last:
                        return
            except BaseException as exc:  # noqa: BLE001 - handed to the sending thread
                self.error = exc
            finally:
                if self.conn is not None:
                    self.conn.close()

    def close(self) -> None:
        """Wait until every marker is committed; re-raise a failure."""
        with self.lock:
            self.closing = True
        self.wake.set()
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


class Composing(threading.Thread):
    """Reads the pending notifications and composes their e-mails ahead of the sender, in a session
    and a request context of its own (links are built with url_for)."""

    def __init__(self, app: Flask, where, extra: dict | None):
        super().__init__(daemon=True, name="composing")
        self.app, self.where, self.extra = app, where, extra or {}
        self.out: queue.Queue[tuple[int, Composed] | None] = queue.Queue(maxsize=COMPOSED_AHEAD)
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def _put(self, value) -> bool:
        while not self.halt.is_set():
            try:
                self.out.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            with self.app.app_context(), links():
                compose, after = Composer(), 0
                while batch := _outgoing(self.where, after, SEND_BATCH):
                    db.session.commit()
                    after = batch[-1].id
                    by_locale = groupby(sorted(batch, key=lambda o: (o.locale, o.id)), key=lambda o: o.locale)
                    for locale, group in by_locale:
                        with force_locale(locale):  # switching language costs: once per language per batch
                            for item in group:
                                item.extra = self.extra
                                if not self._put((item.id, compose(item))):
                                    return
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - raised again in the sending thread
            self.error = exc
        finally:
            self._put(None)

    def __iter__(self) -> Iterator[tuple[int, Composed]]:
        while (entry := self.out.get()) is not None:
            yield entry
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self.halt.set()
        self.join()


def send_pending(where, *, extra: dict | None = None, check: Callable[[], None] | None = None) -> int:
    """Mail every pending notification matching `where` on one SMTP connection; each one's sent
    marker is committed as soon as the server accepts it. Returns how many were accepted. No
    transaction stays open while talking to the server. Raises MailUnavailable (retry later)."""
    if not current_app.config.get("SMTP_HOST"):
        return 0
    pending = (Notification.mail_state == MailState.PENDING.value) & where
    anything = db.session.scalar(select(exists().where(pending)))
    db.session.commit()  # end the read before the first byte goes out
    if not anything:
        return 0
    app, sent = current_app._get_current_object(), 0
    envelope_from, _header = mime.sender(current_app.config["MAIL_FROM"])
    with connection() as smtp:
        composing, marks = Composing(app, pending, extra), SentMarks(app, MailState.PENDING.value)
        composing.start()
        marks.start()
        try:
            for notification_id, message in composing:
                if check is not None:
                    check()
                accepted = send(smtp, envelope_from, message)
                marks.add(notification_id, MailState.SENT if accepted else MailState.REFUSED)
                sent += accepted
        finally:
            composing.stop()
            marks.close()
    return sent


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
            accepted = send(smtp, mime.sender(current_app.config["MAIL_FROM"])[0], message)
            _mark(ids, (MailState.SENT if accepted else MailState.REFUSED).value, MailState.DIGEST.value)
            sent += accepted
    return sent
