"""The app as it runs in production: files in an S3 bucket (moto over real HTTP), not on disk.

`app` is overridden here so every fixture built on it (client, auth, make, runner) uses the S3
storage of a fresh bucket; the database is still the root conftest's (SQLite and PostgreSQL).
"""
from __future__ import annotations

import urllib.request
from email.message import Message
from urllib.parse import urlsplit

import pytest

from lms.extensions import db
from tests.conftest import empty_tables, make_app


@pytest.fixture
def app(migrated_url, tmp_path, s3_settings):
    app = make_app(migrated_url, tmp_path, **s3_settings)
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()


def fetch(url: str) -> tuple[int, Message, bytes]:
    """GET a URL as a browser would (status, headers, body); presigned URLs need no cookies.
    The headers are looked up without regard to case, as HTTP means them."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own moto endpoint
        return response.status, response.headers, response.read()


def assert_presigned(url: str, endpoint: str, bucket: str) -> None:
    """An absolute URL on the bucket's own origin, carrying a SigV4 signature in its query."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == endpoint, url
    assert parts.path.startswith(f"/{bucket}/"), url
    assert "X-Amz-Signature=" in parts.query and "X-Amz-Expires=" in parts.query, url
