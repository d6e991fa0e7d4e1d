"""Configuration: defaults here, then instance/ secrets, then LMS_* environment variables.

Every setting can be given as an environment variable with the LMS_ prefix, e.g.
LMS_DATABASE_URL, LMS_SECRET_KEY, LMS_PRODUCTION=1 (values are parsed as JSON where they can be).
"""
from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from flask import Flask

DEFAULT_SECRET_KEY = "change-me"
SECRET_KEY_FILE = "secret_key"


class Defaults:
    PRODUCTION = False
    DEBUG = False
    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL: str | None = None  # None: SQLite file in instance/
    # orjson reads JSON columns ~3x faster than json: a cohort export reads tens of thousands of
    # frozen results. Writes keep json's text (what the stored rows already hold).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "json_deserializer": orjson.loads}
    MEDIA_ROOT: str | None = None  # None: media/ beside instance/
    COURSES_DIR: str | None = None  # None: courses/ in the project
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # forms and CSV; large media get their own routes
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "lms_session"
    WTF_CSRF_TIME_LIMIT = None  # bound to the session instead; long lesson pages keep working
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tashkent"
    LANGUAGES = ["en", "ja", "uz", "ru"]
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_IP = 30
    LOGIN_LOCKOUT_MINUTES = 15
    LOGIN_IP_SLOW_SECONDS = 10  # an address over its limit gets one attempt per this (not a lockout)
    CSV_MAX_ROWS = 2000
    IMAGE_MAX_PIXELS = 40_000_000  # image uploads: more is a pixel flood (a small file, gigabytes decoded)
    IMAGE_MAX_SIDE = 8192
    VIDEO_MAX_BYTES = 4 * 1024**3  # a lecture upload; over it: 413 and nothing kept
    VIDEO_MAX_SECONDS = 4 * 3600
    VIDEO_TIMEOUT_FACTOR = 8  # a transcode may take this many times the video's duration
    MEDIA_URL_MAX_AGE = 4 * 3600  # signed playlist/segment URLs; a lecture plus pauses
    WORKER_LEASE_SECONDS = 60
    METRICS_TOKEN: str | None = None  # when set, GET /metrics needs "Authorization: Bearer <token>"
    DISK_MIN_FREE_MB = 2048  # /healthz warns below this free space for media and temporary files
    # Game builds run on another origin. It must differ by HOST, not port: cookies and "same-site"
    # ignore ports, so locally the app is 127.0.0.1 and the sandbox localhost; in production, a
    # separate registrable domain.
    APP_ORIGIN = "http://127.0.0.1:5000"  # the only page allowed to frame a build
    SANDBOX_ORIGIN = "http://localhost:5001"
    BUILD_MAX_ENTRIES = 5000
    BUILD_MAX_BYTES = 1024**3  # uncompressed, the whole build
    BUILD_MAX_RATIO = 100  # uncompressed:compressed, per entry and overall
    BUILD_URL_MAX_AGE = 2 * 3600  # a signed build URL; a play session (assets load lazily)
    SUBMISSION_MAX_BYTES = 4 * 1024**3  # one submission request; each file has its assignment's cap
    EXPORT_PROCESSES: int | None = None  # PDF renderers per cohort export; None: the CPU count
    TRUSTED_PROXIES = 0  # proxies in front of the app whose X-Forwarded-* headers are believed
    STORAGE = "local"  # or "s3": media in a bucket, browsers upload and download straight to it
    S3_BUCKET: str | None = None
    S3_PREFIX = ""
    S3_REGION: str | None = None
    S3_ENDPOINT_URL: str | None = None  # any S3-compatible service; None: AWS
    # Local storage behind nginx: media served by nginx's secure_link (deploy/nginx.conf.example).
    MEDIA_SECURE_LINK_PREFIX: str | None = None  # e.g. "/protected-media"
    MEDIA_SECURE_LINK_SECRET: str | None = None
    UPLOAD_URL_MAX_AGE = 3600  # a presigned part URL; a part of 8 MiB on a slow line, with retries
    UPLOAD_MAX_AGE_HOURS = 48  # an unfinished upload can be resumed this long
    # Signed credentials: the issuer's Ed25519 keys are files here (never in the database); rotated-out
    # keys stay beside the current one so credentials they signed still verify.
    ISSUER_KEY_DIR: str | None = None  # None: instance/issuer-keys
    ISSUER_DID: str | None = None  # None: did:web of APP_ORIGIN, whose /.well-known/did.json we serve
    # Notification e-mail, sent by the workers. No SMTP_HOST: notifications stay in the app only.
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_TLS = "starttls"  # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a local relay)
    SMTP_TIMEOUT = 30  # seconds per SMTP command
    MAIL_FROM = "Kakehashi <no-reply@localhost>"
    MAIL_DIGEST_HOUR = 8  # daily digests go out after this hour, in BABEL_DEFAULT_TIMEZONE (Tashkent)
    ANNOUNCEMENTS_PER_HOUR = 10  # per author: more is flooding (429)


def load(app: Flask, overrides: dict | None) -> None:
    """Apply defaults, the instance secret, LMS_* variables and test overrides, in that order."""
    app.config.from_object(Defaults)
    instance = Path(app.instance_path)
    key_file = instance / SECRET_KEY_FILE
    if key_file.exists():
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    app.config.from_prefixed_env("LMS")
    app.config.update(overrides or {})
    _derive(app, instance)
    if app.config["PRODUCTION"]:
        _check_production(app)
    elif app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        app.config["SECRET_KEY"] = _generate_secret_key(key_file)
    if not app.config["PRODUCTION"] and same_site(app.config["APP_ORIGIN"], app.config["SANDBOX_ORIGIN"]):
        app.logger.warning("LMS_SANDBOX_ORIGIN %s shares a host with LMS_APP_ORIGIN %s: game builds could "
                           "use the app's cookies. Use another host name (localhost vs 127.0.0.1).",
                           app.config["SANDBOX_ORIGIN"], app.config["APP_ORIGIN"])


def _derive(app: Flask, instance: Path) -> None:
    root = Path(app.root_path).parent
    url = app.config["DATABASE_URL"] or f"sqlite:///{instance / 'lms.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(url)
    app.config["MEDIA_ROOT"] = str(Path(app.config["MEDIA_ROOT"] or root / "media"))
    app.config["COURSES_DIR"] = str(Path(app.config["COURSES_DIR"] or root / "courses"))
    app.config["ISSUER_KEY_DIR"] = str(instance / (app.config["ISSUER_KEY_DIR"] or "issuer-keys"))
    for name in ("APP_ORIGIN", "SANDBOX_ORIGIN"):
        app.config[name] = normalize_origin(name, app.config[name])
    if app.config["STORAGE"] not in ("local", "s3"):
        raise ConfigError(f"LMS_STORAGE must be local or s3, not {app.config['STORAGE']!r}.")
    if app.config["MEDIA_SECURE_LINK_PREFIX"] and len(app.config["MEDIA_SECURE_LINK_SECRET"] or "") < 32:
        raise ConfigError("LMS_MEDIA_SECURE_LINK_PREFIX needs LMS_MEDIA_SECURE_LINK_SECRET of 32 characters or more.")
    if app.config["STORAGE"] == "s3" and not app.config["S3_BUCKET"]:
        raise ConfigError("LMS_STORAGE=s3 needs LMS_S3_BUCKET (and LMS_S3_ENDPOINT_URL for non-AWS services).")
    _check_mail(app)
    if app.config["PRODUCTION"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _check_mail(app: Flask) -> None:
    config = app.config
    if config["SMTP_TLS"] not in ("starttls", "ssl", "none"):
        raise ConfigError(f"LMS_SMTP_TLS must be starttls, ssl or none, not {config['SMTP_TLS']!r}.")
    for name in ("SMTP_USER", "SMTP_PASSWORD"):  # LMS_* values are read as JSON: a numeric password is a number
        if config[name] is not None:
            config[name] = str(config[name])
    if config["SMTP_HOST"] is not None:
        config["SMTP_HOST"] = str(config["SMTP_HOST"])
    if config["SMTP_USER"] and config["SMTP_TLS"] == "none" and config["PRODUCTION"]:
        raise ConfigError("LMS_SMTP_USER is set with LMS_SMTP_TLS=none: the password would cross the network "
                          "in clear. Use starttls or ssl.")
    if not 0 <= int(config["MAIL_DIGEST_HOUR"]) <= 23:
        raise ConfigError("LMS_MAIL_DIGEST_HOUR must be an hour from 0 to 23.")


def normalize_database_url(url: str) -> str:
    """Point plain postgres URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def normalize_origin(name: str, value: str) -> str:
    """`scheme://host[:port]`, lower case, no trailing slash; anything else is a configuration error."""
    parts = urlsplit(str(value or "").strip())
    try:
        port = parts.port
    except ValueError:
        port = None
        parts = parts._replace(scheme="")
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password
            or parts.path not in ("", "/") or parts.query or parts.fragment):
        raise ConfigError(f"LMS_{name} must be an origin such as https://games.example.org, not {value!r}.")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def same_site(first: str, second: str) -> bool:
    """Whether two origins could share cookies: the same host, or (for names) the same last two
    labels. That over-approximates registrable domains (it also joins a.co.uk and b.co.uk), which
    only ever refuses a safe setup, never accepts an unsafe one."""
    a, b = urlsplit(first).hostname or "", urlsplit(second).hostname or ""
    if a == b:
        return True
    if _is_ip(a) or _is_ip(b):
        return False
    return a.split(".")[-2:] == b.split(".")[-2:] and "." in a and "." in b


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _generate_secret_key(key_file: Path) -> str:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must end up with one key, not two.
    try:
        with key_file.open("x") as fh:
            fh.write(key)
        key_file.chmod(0o600)
    except FileExistsError:
        key = key_file.read_text().strip()
    return key


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _check_production(app: Flask) -> None:
    key = app.config.get("SECRET_KEY") or ""
    if key == DEFAULT_SECRET_KEY or len(key) < 32:
        raise ConfigError(
            "LMS_PRODUCTION is on but no strong SECRET_KEY is set: set LMS_SECRET_KEY "
            "(at least 32 random characters) or write it to instance/secret_key."
        )
    if app.config.get("DEBUG"):
        raise ConfigError("LMS_PRODUCTION is on with DEBUG enabled; unset LMS_DEBUG.")
    if same_site(app.config["APP_ORIGIN"], app.config["SANDBOX_ORIGIN"]):
        raise ConfigError(
            "LMS_SANDBOX_ORIGIN must be on a separate registrable domain from LMS_APP_ORIGIN "
            f"({app.config['SANDBOX_ORIGIN']} vs {app.config['APP_ORIGIN']}): a build on the same site "
            "could use the students' cookies.")


def check_issuer_key(app: Flask) -> None:
    """In production the app signs with a key someone made on purpose and backs up: it never makes
    one itself, and refuses to start without one (the web app only; the sandbox signs nothing)."""
    from lms.credentials.keys import KeyRing, NoIssuerKey

    directory = app.config["ISSUER_KEY_DIR"]
    try:
        usable = KeyRing.load(directory).current.private_key is not None
    except NoIssuerKey:
        usable = False
    if not usable:
        raise ConfigError(
            f"LMS_PRODUCTION is on but the issuer key directory {directory} holds no private key: run "
            "`flask lms keys rotate` once (and back the directory up), or point LMS_ISSUER_KEY_DIR at it.")
