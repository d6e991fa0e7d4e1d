"""Pages while PostgreSQL is down: a branded 503 with Retry-After in the reader's language (which
cannot come from the account, the database being gone), JSON for uploaders, and the app recovers by
itself once the database is back."""
from __future__ import annotations

from lms.auth.models import Role
from lms.extensions import db
from tests.conftest import AuthActions, on_private_postgres, outage

app, cluster = on_private_postgres()


def test_a_logged_in_student_sees_a_translated_503_during_an_outage_and_the_page_after(app, client, make, cluster):
    student = make.user(Role.STUDENT)
    student.locale = "en"  # the account says English; the browser asks for Japanese
    db.session.commit()
    assert AuthActions(client).login(student).status_code == 302
    outage(cluster)
    page = client.get("/", headers={"Accept-Language": "ja"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    text = page.get_data(as_text=True)
    assert "一時的に" in text and '<html lang="ja">' in text and "Traceback" not in text
    assert "架け橋" in text  # branded, not gunicorn's bare page

    uz = client.get("/", headers={"Accept-Language": "uz"})
    assert uz.status_code == 503 and '<html lang="uz">' in uz.get_data(as_text=True)
    api = client.post("/uploads", json={"filename": "lecture.mp4"}, headers={"Accept": "application/json"})
    assert api.status_code == 503 and "temporarily unavailable" in api.get_json()["error"]

    cluster.start_server()
    assert client.get("/").status_code == 200  # same session, no restart of the app
