"""The factory's configuration rules, security headers, CSRF and error pages."""
import pytest

from lms import create_app
from lms.config import ConfigError
from tests.conftest import TEST_SECRET


def test_secret_key_is_generated_once_into_instance(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    assert first.secret_key == second.secret_key == key_file.read_text()
    assert len(first.secret_key) >= 32


@pytest.mark.parametrize("overrides, message", [
    ({}, "SECRET_KEY"),
    ({"SECRET_KEY": "change-me"}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SECRET_KEY": TEST_SECRET, "DEBUG": True}, "DEBUG"),
])
def test_production_refuses_unsafe_config(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"INSTANCE_PATH": str(tmp_path), "PRODUCTION": True, **overrides})
    assert not (tmp_path / "secret_key").exists()


def test_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql://u@db.example/lms")
    monkeypatch.setenv("LMS_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/lms"
    assert app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] == 3


def test_production_cookies_and_hsts(app_with):
    app = app_with(PRODUCTION=True)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    response = app.test_client().get("/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain-HTTP development


def test_csrf_is_required_on_state_changes(app_with):
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"login": "x@example.test", "password": "whatever1"})
    assert response.status_code == 400
    assert b"form expired" in response.data
    assert client.post("/logout").status_code == 400


def test_friendly_404_without_internals(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"This page does not exist" in response.data


def test_500_page_hides_the_stack_trace(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = client.get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    assert b"secret internal detail" not in response.data and b"Traceback" not in response.data


def test_oversized_form_gets_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"login": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert b"larger than allowed" in response.data
