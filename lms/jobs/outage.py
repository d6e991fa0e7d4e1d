"""Riding out a database outage (a restart, a failover, a dropped connection) in the worker.

A worker that loses the database waits and tries again instead of exiting, and a job that has
finished its slow work (a transcode) publishes once the database is back rather than throwing the
work away. Only connection-level errors count as an outage: a constraint violation or a bug still
fails the step at once.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from lms.db import is_outage
from lms.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
__all__ = ["Backoff", "is_outage", "reason", "reset_session", "retry_through_outage"]
FIRST_DELAY, MAX_DELAY = 0.5, 15.0
PUBLISH_PATIENCE_SECONDS = 300.0  # a finished job waits this long for the database to come back


def reason(exc: BaseException) -> str:
    """The driver's error in one line for the log ("OperationalError: connection refused")."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return f"{type(orig).__name__}: {text.splitlines()[0] if text else ''}"


def reset_session() -> None:
    """Drop the session's transaction and connection; the pool checks the next one (pre-ping)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; removing the session is what matters
        pass
    db.session.remove()


class Backoff:
    """Growing waits between attempts (0.5 s doubling to 15 s), reset after a success."""

    def __init__(self, first: float = FIRST_DELAY, most: float = MAX_DELAY):
        self.first, self.most, self.next = first, most, first
        self.failures = 0

    def failed(self) -> float:
        delay, self.next = self.next, min(self.most, self.next * 2)
        self.failures += 1
        return delay

    def succeeded(self) -> bool:
        """True when this success ends a run of failures."""
        recovered = self.failures > 0
        self.next, self.failures = self.first, 0
        return recovered


def retry_through_outage(step: Callable[[], T], *, what: str, stop: threading.Event,
                         patience: float = PUBLISH_PATIENCE_SECONDS) -> T:
    """Run `step` (a short transaction that commits) until it gets through. An outage resets the
    session and waits; after `patience` seconds, or when `stop` is set, the last error is raised."""
    backoff, deadline = Backoff(), time.monotonic() + patience
    while True:
        try:
            result = step()
        except Exception as exc:
            if not is_outage(exc):
                raise
            reset_session()
            delay = backoff.failed()
            if time.monotonic() + delay > deadline or stop.is_set():
                raise
            log.warning("database unavailable while %s (%s); retrying in %.1f s", what, reason(exc), delay)
            if stop.wait(delay):
                raise
            continue
        if backoff.succeeded():
            log.info("database reachable again; %s done", what)
        return result
