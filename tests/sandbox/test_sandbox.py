"""The sandbox origin serves ready builds by signed token and nothing else; the app never serves them."""
from __future__ import annotations

import time

import pytest

from lms import create_app
from lms.assignments import builds
from lms.assignments.models import BuildState
from lms.auth.models import Role
from lms.config import ConfigError
from lms.extensions import db
from lms.sandbox import create_sandbox_app
from lms.sandbox.serving import content_type
from lms.sandbox.tokens import build_token
from lms.video.media_access import _serializer as lesson_media_serializer
from tests.conftest import PASSWORD, TEST_SECRET, IsolatedClient
from tests.sandbox.helpers import DATA, FRAMEWORK_JS, INDEX, MARKER, WASM, attach, game_submission, make_zip, \
    run_jobs, unity_files


@pytest.fixture
def sandbox(app):
    """The sandbox app on the test's database, secret and MEDIA_ROOT, as `make run` starts it."""
    keys = ("DATABASE_URL", "SECRET_KEY", "MEDIA_ROOT", "INSTANCE_PATH")
    sandbox = create_sandbox_app({"TESTING": True, **{k: app.config.get(k) for k in keys}})
    sandbox.test_client_class = IsolatedClient  # buffered: file responses are read and closed
    yield sandbox
    with sandbox.app_context():
        db.engine.dispose()


@pytest.fixture
def ready(app, make):
    submission = game_submission(make)
    build = attach(submission, make_zip(unity_files()))
    run_jobs(app)
    db.session.refresh(build)
    assert build.state == BuildState.READY, build.error
    return build


def _url(build, user_id=None, name="index.html") -> str:
    user_id = user_id or build.submission.student_id
    return f"/b/{build_token(build.id, build.submission_id, user_id)}/{name}"


def _assert_confined(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors http://127.0.0.1:5000;" in csp
    assert "form-action 'none'" in csp and "base-uri 'none'" in csp and "sandbox allow-scripts" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers


def test_a_valid_token_serves_the_entry_page(sandbox, ready):
    response = sandbox.test_client().get(_url(ready))
    assert response.status_code == 200
    assert response.mimetype == "text/html" and response.data == INDEX
    assert "Content-Encoding" not in response.headers
    _assert_confined(response)


@pytest.mark.parametrize("name, mimetype, encoding, body", [
    ("Build/x.wasm.br", "application/wasm", "br", WASM),
    ("Build/x.data.gz", "application/octet-stream", "gzip", None),
    ("Build/x.framework.js.gz", "application/javascript", "gzip", None),
    ("Build/x.loader.js", "application/javascript", None, b"function createUnityInstance() {}\n"),
    ("TemplateData/style.css", "text/css", None, None),
])
def test_unity_files_get_their_type_and_encoding(sandbox, ready, name, mimetype, encoding, body):
    response = sandbox.test_client().get(_url(ready, name=name))
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers.get("Content-Encoding") == encoding
    assert response.data == (body if body is not None else unity_files()[name])  # passed through, not inflated
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # the build's own fetches come from Origin: null
    _assert_confined(response)


def test_precompressed_content_decodes_to_what_the_engine_wrote(sandbox, ready):
    import gzip

    response = sandbox.test_client().get(_url(ready, name="Build/x.data.gz"))
    assert gzip.decompress(response.data) == DATA
    response = sandbox.test_client().get(_url(ready, name="Build/x.framework.js.gz"))
    assert gzip.decompress(response.data) == FRAMEWORK_JS


@pytest.mark.parametrize("name, expected", [
    ("index.html", ("text/html", None)), ("Build/game.wasm.br", ("application/wasm", "br")),
    ("game.data.gz", ("application/octet-stream", "gzip")), ("a.JS", ("application/javascript", None)),
    ("game.pck", ("application/octet-stream", None)), ("notes", ("application/octet-stream", None)),
])
def test_content_types(name, expected):
    assert content_type(name) == expected


def test_head_requests_work(sandbox, ready):
    response = sandbox.test_client().head(_url(ready, name="Build/x.wasm.br"))
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"


def test_tampered_tokens_404(sandbox, ready):
    url = _url(ready)
    token = url.split("/")[2]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client = sandbox.test_client()
    assert client.get(f"/b/{tampered}/index.html").status_code == 404
    assert client.get("/b/not-a-token/index.html").status_code == 404
    claims = {"b": ready.id, "s": ready.submission_id, "u": 1}  # read here: the app's session, the app's engine
    with sandbox.app_context():  # the same claims signed for lesson media must not open a build
        other_salt = lesson_media_serializer().dumps(claims)
    response = client.get(f"/b/{other_salt}/index.html")
    assert response.status_code == 404
    _assert_confined(response)


def test_expired_tokens_404(sandbox, ready, monkeypatch):
    real = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real() - 2 * 3600 - 60)
    url = _url(ready)
    monkeypatch.setattr("itsdangerous.timed.time.time", real)
    assert sandbox.test_client().get(url).status_code == 404


def test_a_token_must_name_the_builds_submission(sandbox, ready):
    token = build_token(ready.id, ready.submission_id + 1000, 1)
    assert sandbox.test_client().get(f"/b/{token}/index.html").status_code == 404


@pytest.mark.parametrize("state", [BuildState.CHECKING, BuildState.REJECTED])
def test_a_build_that_is_not_ready_404s(sandbox, ready, state):
    url = _url(ready)
    ready.state = state
    db.session.commit()
    assert sandbox.test_client().get(url).status_code == 404


@pytest.mark.parametrize("name", [
    "../../archives/x.zip", "..%2F..%2Farchives", "%2e%2e/%2e%2e/x", "Build/../../other/index.html",
    "/etc/passwd", "Build", "Build/", "missing.js",
])
def test_nothing_outside_the_build_is_served(sandbox, ready, name):
    archive_name = ready.archive_key.rsplit("/", 1)[1]
    client = sandbox.test_client()
    token = _url(ready).split("/")[2]
    assert client.get(f"/b/{token}/{name.replace('x.zip', archive_name)}").status_code == 404


def test_the_archive_itself_is_not_reachable(sandbox, ready):
    token = _url(ready).split("/")[2]
    archive = ready.archive_key.rsplit("/", 1)[1]
    for name in (f"../../archives/{archive}", f"../archives/{archive}", ready.archive_key):
        assert sandbox.test_client().get(f"/b/{token}/{name}").status_code == 404


def test_the_sandbox_has_no_other_routes(sandbox, ready):
    client = sandbox.test_client()
    for path in ("/", "/login", "/logout", "/static/css/app.css", "/assignments", "/media/x/master.m3u8",
                 f"/b/{_url(ready).split('/')[2]}", f"/{ready.prefix}/index.html"):
        response = client.get(path)
        assert response.status_code == 404, path
        _assert_confined(response)
    assert client.post(_url(ready)).status_code == 405


def test_the_sandbox_never_sets_or_reads_cookies(app, sandbox, ready):
    client = sandbox.test_client()
    client.set_cookie("lms_session", "stolen-looking-value", domain="localhost")
    for name in ("index.html", "Build/x.wasm.br", "nope.js"):
        response = client.get(_url(ready, name=name))
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")


def test_the_sandbox_shares_the_apps_configuration(tmp_path):
    main = create_app({"INSTANCE_PATH": str(tmp_path)})
    sandbox = create_sandbox_app({"INSTANCE_PATH": str(tmp_path)})
    assert sandbox.secret_key == main.secret_key  # tokens made by the app verify in the sandbox
    for key in ("MEDIA_ROOT", "SQLALCHEMY_DATABASE_URI", "SANDBOX_ORIGIN", "APP_ORIGIN"):
        assert sandbox.config[key] == main.config[key]


@pytest.mark.parametrize("app_origin, sandbox_origin", [
    ("https://lms.jdu.uz", "https://lms.jdu.uz:8443"),  # ports do not separate cookies
    ("https://lms.jdu.uz", "https://games.jdu.uz"),  # same site: Domain cookies and SameSite pass
    ("http://127.0.0.1:5000", "http://127.0.0.1:5001"),
])
def test_production_refuses_a_sandbox_on_the_apps_site(tmp_path, app_origin, sandbox_origin):
    config = {"INSTANCE_PATH": str(tmp_path), "PRODUCTION": True, "SECRET_KEY": TEST_SECRET,
              "APP_ORIGIN": app_origin, "SANDBOX_ORIGIN": sandbox_origin}
    with pytest.raises(ConfigError, match="separate registrable domain"):
        create_sandbox_app(config)
    with pytest.raises(ConfigError, match="separate registrable domain"):
        create_app(config)


def test_production_accepts_a_sandbox_on_another_domain(tmp_path):
    sandbox = create_sandbox_app({"INSTANCE_PATH": str(tmp_path), "PRODUCTION": True, "SECRET_KEY": TEST_SECRET,
                                  "APP_ORIGIN": "https://lms.jdu.uz", "SANDBOX_ORIGIN": "https://jdu-play.net"})
    assert sandbox.config["SANDBOX_ORIGIN"] == "https://jdu-play.net"


def test_a_malformed_origin_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="LMS_SANDBOX_ORIGIN"):
        create_sandbox_app({"INSTANCE_PATH": str(tmp_path), "SANDBOX_ORIGIN": "localhost:5001/games"})


def test_the_cli_command_exists(app):
    result = app.test_cli_runner().invoke(args=["lms", "sandbox", "--help"])
    assert result.exit_code == 0 and "gunicorn" in result.output


def _login(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_app_never_serves_build_files(app, make, ready):
    """Whatever GET route of the app is asked for the build's files, by any name, none comes back."""
    student = ready.submission.student
    token = _url(ready).split("/")[2]
    relative = f"{ready.prefix}/{ready.entry}"
    clients = [_login(app, student), _login(app, make.user(Role.ADMIN)), app.test_client()]
    candidates = [f"/{relative}", f"/media/{relative}", f"/static/../media/{relative}", f"/b/{token}/index.html",
                  f"/media/{token}/index.html", f"/static/{relative}"]
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        for path_value in (relative, ready.entry, f"../{relative}"):
            values = {}
            for arg, converter in rule._converters.items():
                kind = type(converter).__name__
                values[arg] = ready.id if kind == "IntegerConverter" else \
                    path_value if kind == "PathConverter" else token
            try:
                candidates.append(adapter.build(rule.endpoint, values))
            except Exception:  # noqa: BLE001 - a rule these values cannot fill
                continue
    assert len(candidates) > 20
    for client in clients:
        for url in candidates:
            response = client.get(url)
            assert MARKER not in response.data, url
    for url in candidates[:6]:
        assert clients[0].get(url).status_code == 404, url


def test_build_frame_urls_open_in_the_sandbox(app, sandbox, ready):
    frame = builds.build_frame(ready, ready.submission.student)
    path = frame["src"][len(app.config["SANDBOX_ORIGIN"]):]
    response = sandbox.test_client().get(path)
    assert response.status_code == 200 and MARKER in response.data

