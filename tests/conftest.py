"""Fixtures: the app on SQLite and on a real PostgreSQL, a client, a CLI runner, an auth helper,
factories, and count_queries. The schema is built once per backend by running the migrations;
each test then starts from empty tables."""
from __future__ import annotations

import contextlib
import contextvars
import functools
from decimal import Decimal

import flask_migrate
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event

from lms import create_app
from lms.auth.models import Role
from lms.auth.passwords import hash_password
from lms.auth.services import create_user
from lms.catalog.models import Course, Lesson, Module, Offering, OfferingStaff, StaffRole, Term
from lms.catalog.services import enroll
from lms.extensions import db
from tests.postgres import PostgresCluster
from tests.s3 import MotoS3

PASSWORD = "correct-horse-battery"
TEST_SECRET = "test-secret-key-" + "x" * 32


@pytest.fixture(scope="session")
def postgres_url():
    cluster = PostgresCluster()
    url = cluster.start()
    yield url
    cluster.stop()


@pytest.fixture(scope="session")
def moto_s3():
    server = MotoS3()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_settings(moto_s3):
    """App settings for S3 storage in a fresh bucket of the moto server."""
    return {"STORAGE": "s3", "S3_BUCKET": moto_s3.new_bucket(), "S3_ENDPOINT_URL": moto_s3.endpoint,
            "S3_REGION": "us-east-1", "S3_PREFIX": "lms"}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def migrated_url(database_url, tmp_path_factory):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
                      "MEDIA_ROOT": str(tmp_path_factory.mktemp("media"))})
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return database_url


class IsolatedClient(FlaskClient):
    """Each request in an empty context, as in production: its own app context, `g` and session.

    The `app` fixture keeps an app context pushed for the test body, and Flask would reuse it for
    requests: all of them would share one `g` (where Flask-Login caches the user, so a second client
    could act as the first one's user) and one session (so a view that forgot to commit would pass).
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # read and close file responses, as a browser would
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not inside a redirect followed in the empty context
            db.session.expire_all()  # the test's own session: re-read what the request committed
        return response


def make_app(url: str, tmp_path, **overrides):
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET,
              "WTF_CSRF_ENABLED": False, "MEDIA_ROOT": str(tmp_path / "media"),
              "COURSES_DIR": str(tmp_path / "courses"), "ISSUER_KEY_DIR": str(tmp_path / "issuer-keys"),
              "DISK_MIN_FREE_MB": 16}  # the shared test machine's free space is not what the tests are about
    config.update(overrides)
    if config.get("PRODUCTION"):  # production never makes its own signing key; it must exist
        from lms.credentials.keys import KeyRing, generate_key

        if not KeyRing.load(config["ISSUER_KEY_DIR"]).keys:
            generate_key(config["ISSUER_KEY_DIR"])
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


_cached_hash = functools.cache(hash_password)


@pytest.fixture(autouse=True)
def _reuse_password_hashes(monkeypatch):
    """Factories create many users with one password: hash it once (still real scrypt)."""
    monkeypatch.setattr("lms.auth.services.hash_password", _cached_hash)


@pytest.fixture
def app(migrated_url, tmp_path):
    app = make_app(migrated_url, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()


def empty_tables() -> None:
    """Start the next test from empty tables; finalized results' triggers are lifted meanwhile."""
    from sqlalchemy import text

    from lms.records.triggers import statements

    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        for sql in statements(dialect, create=False):
            conn.execute(text(sql))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        for sql in statements(dialect, create=True):
            conn.execute(text(sql))


@pytest.fixture
def app_with(migrated_url, tmp_path):
    """Another app on the test database with other settings; its connections closed afterwards."""
    apps = []

    def build(**overrides):
        apps.append(make_app(migrated_url, tmp_path / f"app{len(apps)}", **overrides))
        return apps[-1]

    yield build
    for other in apps:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, who, password: str = PASSWORD):
        login = who if isinstance(who, str) else who.email
        return self.client.post("/login", data={"login": login, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class Factory:
    """Builds rows with sensible defaults; every call commits so views see the data."""

    def __init__(self):
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def user(self, role: Role = Role.STUDENT, *, must_change: bool = False, **fields):
        n = self._next()
        fields.setdefault("email", f"{role}{n}@example.test")
        fields.setdefault("name_latin", f"{role.title()} Person {chr(64 + n % 26 or 26)}")
        if role == Role.STUDENT:
            fields.setdefault("student_number", f"S{n:05d}")
        user, _ = create_user(role=role, password=PASSWORD, **fields)
        user.must_change_password = must_change
        db.session.commit()
        return user

    def course(self, **fields):
        n = self._next()
        fields.setdefault("code", f"TC{n:03d}")
        fields.setdefault("title_en", f"Test course {n}")
        fields.setdefault("credits", Decimal("2"))
        fields.setdefault("hours", 90)
        course = Course(**fields)
        db.session.add(course)
        db.session.flush()
        module = Module(course_id=course.id, key="intro", title_en="Introduction", position=0)
        db.session.add(module)
        db.session.flush()
        db.session.add(Lesson(course_id=course.id, module_id=module.id, key="first", title_en="First lesson",
                              body_md="# Hello\n\nThe **first** lesson.", minutes=10, position=0))
        db.session.commit()
        return course

    def term(self, **fields):
        from datetime import date

        n = self._next()
        fields.setdefault("code", f"term-{n}")
        fields.setdefault("name", f"Term {n}")
        fields.setdefault("starts_on", date(2026, 9, 1))
        fields.setdefault("ends_on", date(2027, 1, 31))
        term = Term(**fields)
        db.session.add(term)
        db.session.commit()
        return term

    def offering(self, course=None, *, instructor=None, assistant=None, students=()):
        offering = Offering(course_id=(course or self.course()).id, term_id=self.term().id)
        db.session.add(offering)
        db.session.flush()
        for user, role in ((instructor, StaffRole.INSTRUCTOR), (assistant, StaffRole.ASSISTANT)):
            if user is not None:
                db.session.add(OfferingStaff(offering_id=offering.id, user_id=user.id, role=role))
        for student in students:
            enroll(offering, student)
        db.session.commit()
        return offering

    def finalized(self, student, offering, raw, *, scheme=None, rule=None, **fields):
        """A finalized result as finalize_offering leaves it: its snapshot taken with `scheme` and `rule`."""
        from lms.records import snapshot
        from lms.records.models import FinalResult, ResultState

        result = FinalResult(student_id=student.id, offering=offering, raw_score=Decimal(raw),
                             state=ResultState.FINALIZED, ja_scheme_id=scheme.id if scheme else None,
                             credit_rule_id=rule.id if rule else None, **fields)
        result.frozen = snapshot.freeze(result, scheme, rule)  # before the insert: a finalized row never changes
        db.session.add(result)
        db.session.commit()
        return result


@pytest.fixture(scope="module")
def private_postgres(tmp_path_factory):
    """A migrated PostgreSQL cluster of the module's own, for tests that stop and restart it."""
    cluster = PostgresCluster()
    cluster.url = cluster.start()
    migrate = make_app(cluster.url, tmp_path_factory.mktemp("migrate"))
    with migrate.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    yield cluster
    cluster.stop()


@pytest.fixture
def outage_app(private_postgres, tmp_path):
    """Like `app`, on the private cluster; a module uses it as its `app` (the other fixtures follow)."""
    app = make_app(private_postgres.url, tmp_path)
    with app.app_context():
        yield app
        if not private_postgres.running:  # a test that failed mid-outage
            private_postgres.start_server()
        db.session.remove()
        empty_tables()
        db.engine.dispose()


def on_private_postgres():
    """`app` and `cluster` fixtures for a module whose tests stop and start PostgreSQL: assign them
    in the module (`app, cluster = on_private_postgres()`), and the other fixtures follow."""
    @pytest.fixture
    def app(outage_app):
        return outage_app

    @pytest.fixture
    def cluster(private_postgres):
        return private_postgres

    return app, cluster


def outage(cluster) -> None:
    """Stop the server: every connection breaks, the test's own pooled ones too."""
    db.session.remove()
    cluster.stop_server()
    db.engine.dispose()


@pytest.fixture
def make(app):
    return Factory()


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counter: ...` then `counter.count`."""
    @contextlib.contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list[str] = []

        def before(conn, cursor, statement, *args):
            Counter.count += 1
            Counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield Counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
