"""Mail settings come from LMS_SMTP_* variables; unsafe or impossible ones stop the app at start."""
import pytest

from lms import create_app
from lms.config import ConfigError
from tests.conftest import TEST_SECRET


def base(tmp_path, **settings):
    return {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": TEST_SECRET, "DATABASE_URL": "sqlite://", **settings}


def test_settings_from_the_environment(tmp_path, monkeypatch):
    for name, value in {"LMS_SMTP_HOST": "smtp.jdu.uz", "LMS_SMTP_PORT": "465", "LMS_SMTP_TLS": "ssl",
                        "LMS_SMTP_USER": "lms", "LMS_SMTP_PASSWORD": "123456"}.items():
        monkeypatch.setenv(name, value)
    config = create_app(base(tmp_path)).config
    assert (config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TLS"]) == ("smtp.jdu.uz", 465, "ssl")
    assert config["SMTP_PASSWORD"] == "123456"  # read as JSON it would be a number


def test_an_unknown_tls_mode_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="LMS_SMTP_TLS"):
        create_app(base(tmp_path, SMTP_TLS="yes"))


def test_production_refuses_a_password_in_clear(tmp_path):
    settings = base(tmp_path, PRODUCTION=True, APP_ORIGIN="https://lms.jdu.uz", SANDBOX_ORIGIN="https://jdu-games.net",
                    SMTP_HOST="smtp.jdu.uz", SMTP_USER="lms", SMTP_PASSWORD="x", SMTP_TLS="none")
    with pytest.raises(ConfigError, match="in clear"):
        create_app(settings)
