"""Pages speak the reader's language (browser, switcher, account), and the header's switcher is a
safe state change: CSRF-protected, validated, and it only ever redirects within the site."""
from __future__ import annotations

import os
from html import escape
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from lms.auth.models import User
from lms.extensions import db

TRANSLATIONS = Path(__file__).resolve().parents[2] / "lms" / "translations"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    """`make test` compiles the catalogs; this lets `pytest tests/i18n` alone work too. Only stale
    .mo files are rewritten, through a temporary file, so a concurrent reader never sees half a file."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as f:
            write_mo(f, catalog)
        os.replace(partial, mo)


def translation(locale: str, msgid: str) -> str:
    """What the catalog says, so the uz and ru checks follow their translators' wording."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        message = read_po(f).get(msgid)
    assert message is not None and message.string, f"{locale} has no translation of {msgid!r}"
    return message.string


@pytest.mark.parametrize("locale, expected", [("ja", "パスワード"), ("uz", None), ("ru", None)])
def test_login_page_follows_the_browser_language(client, locale, expected):
    page = client.get("/login", headers={"Accept-Language": f"{locale},en;q=0.5"}).get_data(as_text=True)
    assert f'<html lang="{locale}">' in page
    assert escape(expected or translation(locale, "Password")) in page


@pytest.mark.parametrize("locale, expected", [("ja", "マイコース"), ("uz", None), ("ru", None)])
def test_student_home_follows_the_browser_language(client, auth, make, locale, expected):
    student = make.user()
    make.offering(students=[student])
    auth.login(student)
    page = client.get("/", headers={"Accept-Language": locale}).get_data(as_text=True)
    assert escape(expected or translation(locale, "My courses")) in page


def test_english_without_a_preference(client):
    assert "Password" in client.get("/login").get_data(as_text=True)


def test_visitor_switches_language_for_the_session(client):
    response = client.post("/language", data={"locale": "ja", "next": "/login?next=/records"})
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/records"
    # The session's choice wins over the browser's
    page = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ja">' in page and "パスワード" in page


def test_choice_made_before_login_survives_login(client, auth, make):
    student = make.user()
    client.post("/language", data={"locale": "ja", "next": "/login"})
    auth.login(student)
    assert "マイコース" in client.get("/").get_data(as_text=True)


def test_logged_in_choice_is_saved_on_the_account(client, auth, make):
    student = make.user()
    auth.login(student)
    response = client.post("/language", data={"locale": "ja", "next": "/"})
    assert response.status_code == 302
    assert db.session.get(User, student.id).locale == "ja"
    # The account's language wins over the browser's, on every device
    assert "マイコース" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_switcher_never_redirects_off_site(client, target):
    response = client.post("/language", data={"locale": "ja", "next": target})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"] and "javascript" not in response.headers["Location"]


def test_switcher_refuses_unknown_languages(client, auth, make):
    student = make.user()
    auth.login(student)
    assert client.post("/language", data={"locale": "xx", "next": "/"}).status_code == 400
    assert db.session.get(User, student.id).locale is None


def test_switcher_requires_the_csrf_token(app_with):
    client = app_with(WTF_CSRF_ENABLED=True).test_client()
    assert client.post("/language", data={"locale": "ja", "next": "/login"}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'action="/language"' in page
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/language", data={"locale": "ja", "next": "/login", "csrf_token": token})
    assert response.status_code == 302


def test_switcher_is_labelled_and_marks_the_current_language(client):
    page = client.get("/login", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<label class="visually-hidden" for="language-switcher">' in page
    assert '<option value="ja" lang="ja" selected>日本語</option>' in page
