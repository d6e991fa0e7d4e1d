"""The admin "System health" page: who may see it, what it shows, and the retry of a dead job."""
from __future__ import annotations

import re

import pytest

from lms.auth.models import Role
from lms.extensions import db
from lms.jobs.models import Job, JobState, WorkerState
from tests.conftest import PASSWORD


def login(client, user):
    client.post("/login", data={"login": user.email, "password": PASSWORD})
    return client


@pytest.mark.parametrize("role", [Role.REGISTRAR, Role.INSTRUCTOR, Role.STUDENT])
def test_only_admins_see_the_page(app, make, role):
    client = login(app.test_client(), make.user(role))
    assert client.get("/admin/health").status_code == 403
    assert client.post("/admin/health/jobs/1/retry").status_code == 403


def test_anonymous_users_are_sent_to_log_in(client):
    for response in (client.get("/admin/health"), client.post("/admin/health/jobs/1/retry")):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_admin_sees_workers_queue_and_errors_escaped(app, make, rows):
    running = rows.job(state=JobState.RUNNING)
    rows.worker(state=WorkerState.BUSY, job_id=running.id, hostname="fresh-host")
    rows.worker(seconds_ago=7200, hostname="gone-host")
    dead = rows.job(kind="game_build", state=JobState.DEAD, attempts=3,
                    error="<script>alert('x')</script> zip & co")
    client = login(app.test_client(), make.user(Role.ADMIN))
    response = client.get("/admin/health")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "System health" in html and 'href="/admin/health"' in html  # linked in the navigation
    fresh_row = re.search(r'<tr class="worker">\s*<td>fresh-host</td>.*?</tr>', html, re.S)
    assert fresh_row and "stale" not in fresh_row.group(0) and f"#{running.id} video.transcode" in fresh_row.group(0)
    stale_row = re.search(r'<tr class="worker stale">\s*<td>gone-host</td>.*?</tr>', html, re.S)
    assert stale_row and 'badge warn">stale' in stale_row.group(0)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; zip &amp; co" in html
    assert f'action="/admin/health/jobs/{dead.id}/retry"' in html


def test_retry_gives_a_dead_job_fresh_attempts_and_leaves_others_alone(app, make, rows):
    dead = rows.job(state=JobState.DEAD, attempts=3, error="boom")
    failed = rows.job(state=JobState.FAILED, attempts=1, error="later")
    client = login(app.test_client(), make.user(Role.ADMIN))
    assert client.post(f"/admin/health/jobs/{dead.id}/retry").status_code == 302
    job = db.session.get(Job, dead.id)
    assert (job.state, job.attempts, job.last_error) == (JobState.QUEUED, 0, None)
    client.post(f"/admin/health/jobs/{failed.id}/retry")
    job = db.session.get(Job, failed.id)
    assert (job.state, job.attempts, job.last_error) == (JobState.FAILED, 1, "later")
    assert client.post("/admin/health/jobs/999999/retry").status_code == 404


def test_retry_needs_the_csrf_token(app_with, make, rows):
    dead = rows.job(state=JobState.DEAD, attempts=3, error="boom")
    admin = make.user(Role.ADMIN)
    client = app_with(WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" [^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"login": admin.email, "password": PASSWORD, "csrf_token": token})
    assert client.post(f"/admin/health/jobs/{dead.id}/retry").status_code == 400
    assert db.session.get(Job, dead.id).state == JobState.DEAD
    page = client.get("/admin/health").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/admin/health/jobs/{dead.id}/retry", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Job, dead.id).state == JobState.QUEUED


def test_the_page_takes_a_constant_number_of_queries(app, make, rows, count_queries):
    client = login(app.test_client(), make.user(Role.ADMIN))

    def queries() -> int:
        with count_queries() as counter:
            assert client.get("/admin/health").status_code == 200
        return counter.count

    rows.worker()
    rows.job(state=JobState.DEAD, error="x")
    few = queries()
    for n in range(8):
        job = rows.job(kind=f"kind-{n % 3}", state=JobState.RUNNING)
        rows.worker(state=WorkerState.BUSY, job_id=job.id, hostname=f"host-{n}")
        rows.job(kind=f"kind-{n % 3}", state=JobState.DEAD, error=f"error {n}")
        rows.job(kind=f"kind-{n % 3}", state=JobState.FAILED, error=f"error {n}")
    assert queries() == few
