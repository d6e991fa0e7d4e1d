"""Logging in and out: throttling, identical refusals, safe redirects, sessions that really end."""
import re

import pytest

from datetime import timedelta

from lms.auth import devices
from lms.auth.models import LoginThrottle, Role
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import PASSWORD, AuthActions


def test_login_by_email_or_student_number(client, auth, make):
    student = make.user(Role.STUDENT, email="aziz@example.test", student_number="JDU26001")
    response = auth.login("AZIZ@example.test")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    auth.logout()
    assert auth.login("JDU26001").status_code == 302
    assert student.name_latin.encode() in client.get("/").data


def test_unknown_and_known_users_get_identical_refusals(auth, make):
    make.user(Role.STUDENT, email="known@example.test")
    known = auth.login("known@example.test", "wrong-password-1")
    unknown = auth.login("nobody@example.test", "wrong-password-1")
    assert known.status_code == unknown.status_code == 401
    # Identical apart from the login the user typed, which the form shows back, and the CSRF token,
    # which carries the second it was made in (the two requests may fall in different seconds).
    def page(response, typed):
        return re.sub(rb'name="csrf_token" value="[^"]+"', b"", response.data.replace(typed, b"who@"))
    assert page(known, b"known@") == page(unknown, b"nobody@")
    assert b"Wrong email, student number or password." in known.data


def test_account_is_locked_after_repeated_failures(app, auth, make):
    user = make.user(Role.STUDENT)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login(user, "wrong-password-1")
    locked = auth.login(user, PASSWORD)  # even the right password waits
    assert locked.status_code == 401 and b"Too many failed attempts" in locked.data
    # An unknown account is throttled the same way, so lockouts reveal nothing.
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login("ghost@example.test", "wrong-password-1")
    assert b"Too many failed attempts" in auth.login("ghost@example.test", "x").data


def test_lockout_counts_the_account_whichever_login_names_it(app, auth, make):
    user = make.user(Role.STUDENT, email="aziz@example.test", student_number="JDU26001")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login("JDU26001", "wrong-password-1")
    by_email = auth.login("aziz@example.test", PASSWORD)
    assert by_email.status_code == 401 and b"Too many failed attempts" in by_email.data
    assert user.last_login_at is None


def test_a_campus_address_over_its_limit_slows_down_but_never_locks_students_out(app, make):
    """One attacker behind the campus address guesses across accounts; students still log in."""
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 4
    regular, newcomer = make.user(Role.STUDENT), make.user(Role.STUDENT)
    regulars_browser, attacker, newcomers_browser = app.test_client(), app.test_client(), app.test_client()
    assert AuthActions(regulars_browser).login(regular).status_code == 302  # has logged in here before
    AuthActions(regulars_browser).logout()
    for n in range(4):
        AuthActions(attacker).login(f"guess{n}@example.test", "wrong-password-1")

    # The address is over its limit: the attacker's next guesses wait their turn...
    AuthActions(attacker).login("guess9@example.test", "wrong-password-1")
    slowed = AuthActions(attacker).login(newcomer, "wrong-password-1")
    assert slowed.status_code == 401 and b"Wait" in slowed.data
    # ...a browser the account logged in from before is not slowed at all...
    assert AuthActions(regulars_browser).login(regular).status_code == 302
    # ...and a student on a new browser gets in once the turn has passed, with no lockout.
    for row in db.session.scalars(db.select(LoginThrottle).where(LoginThrottle.key.startswith("slow:"))):
        row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert AuthActions(newcomers_browser).login(newcomer).status_code == 302


def test_a_trusted_browser_has_its_own_failure_counter(app, auth, make, client):
    user = make.user(Role.STUDENT)
    assert auth.login(user).status_code == 302
    auth.logout()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):  # someone else, elsewhere
        AuthActions(app.test_client()).login(user, "wrong-password-1")
    assert auth.login(user).status_code == 302  # the student's own browser still gets in
    auth.logout()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):  # guesses from the trusted browser count too
        auth.login(user, "wrong-password-1")
    assert b"Too many failed attempts" in auth.login(user).data


def test_a_forged_device_cookie_is_ignored(app, auth, make, client):
    user = make.user(Role.STUDENT)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login(user, "wrong-password-1")
    client.set_cookie(devices.COOKIE, "W1sxLCJ4Il1d.forged.sig", path="/login")
    assert b"Too many failed attempts" in auth.login(user).data


def test_lockout_expires(app, auth, make):
    user = make.user(Role.STUDENT)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login(user, "wrong-password-1")
    for row in db.session.scalars(db.select(LoginThrottle)):
        row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert auth.login(user).status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/account", "/account"),
    ("https://evil.example/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_redirect_is_same_site_only(client, make, target, expected):
    user = make.user(Role.STUDENT)
    response = client.post("/login", query_string={"next": target},
                           data={"login": user.email, "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_ends_the_session_even_for_a_copied_cookie(app, auth, client, make):
    user = make.user(Role.STUDENT)
    auth.login(user)
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    auth.logout()
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert other.get("/").status_code == 302


def test_disabling_an_account_ends_its_session_at_once(auth, client, make):
    from lms.auth.services import set_disabled

    user = make.user(Role.STUDENT)
    auth.login(user)
    assert client.get("/").status_code == 200
    set_disabled(user, True)
    db.session.commit()
    assert client.get("/").status_code == 302
    refused = auth.login(user)
    assert refused.status_code == 401 and b"Wrong email, student number or password." in refused.data


def test_first_login_requires_a_new_password(auth, client, make):
    user = make.user(Role.STUDENT, must_change=True)
    auth.login(user)
    assert client.get("/").headers["Location"] == "/account/password"
    weak = client.post("/account/password", data={"current": PASSWORD, "new": "password1",
                                                   "confirm": "password1"})
    assert weak.status_code == 400 and b"too common" in weak.data
    ok = client.post("/account/password", data={"current": PASSWORD, "new": "tulips in Samarkand",
                                                 "confirm": "tulips in Samarkand"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # still logged in after the token rotated
    auth.logout()
    assert auth.login(user, "tulips in Samarkand").status_code == 302


def test_wrong_current_password_is_refused(auth, client, make):
    user = make.user(Role.STUDENT)
    auth.login(user)
    response = client.post("/account/password", data={"current": "not-it-at-all", "new": "tulips in Samarkand",
                                                       "confirm": "tulips in Samarkand"})
    assert response.status_code == 400 and b"current password is not correct" in response.data


def test_language_preference_changes_the_page_language_setting(auth, client, make):
    user = make.user(Role.STUDENT)
    auth.login(user)
    client.post("/account", data={"locale": "ja"})
    assert b'<html lang="ja">' in client.get("/").data


def test_behind_a_trusted_proxy_the_lockout_counts_each_students_address(app_with, make):
    proxied = app_with(TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_IP=4)
    with proxied.app_context():
        user = make.user(Role.STUDENT)
        client = proxied.test_client()

        def login(login, password, address):
            return client.post("/login", data={"login": login, "password": password},
                               headers={"X-Forwarded-For": address})
        for n in range(4):
            login(f"guess{n}@example.test", "wrong-password-1", "203.0.113.7")
        login("guess8@example.test", "wrong-password-1", "203.0.113.7")  # takes the slowed address's turn
        assert b"Wait" in login(user.email, PASSWORD, "203.0.113.7").data
        assert login(user.email, PASSWORD, "198.51.100.20").status_code == 302  # another student, same proxy
