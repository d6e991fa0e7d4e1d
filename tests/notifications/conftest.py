from __future__ import annotations

import pytest

from lms.jobs.worker import Worker
from tests.mailserver import MailServer


@pytest.fixture
def mailserver():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailing(app, mailserver):
    """The app sends its notification mail to the local server."""
    app.config.update(mailserver.settings)
    return mailserver


def run_jobs(app) -> int:
    return Worker(app, lease_seconds=30, poll_seconds=0.1).run(drain=True)
