"""GET /healthz and /healthz/workers: no login, counts only, 503 when something is down."""
from __future__ import annotations

from lms.jobs.models import JobState, WorkerState

UNREACHABLE_DB = "postgresql://kakehashi:hunter2-db-password@127.0.0.1:1/lms"  # nothing listens on port 1


def test_healthz_is_ok_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok", "disk": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_is_unreachable_and_leaks_nothing(app_with):
    broken = app_with(DATABASE_URL=UNREACHABLE_DB)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "unavailable", "storage": "ok", "disk": "ok"}
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "127.0.0.1" not in text

    workers = broken.test_client().get("/healthz/workers")
    assert workers.status_code == 503
    assert workers.get_json() == {"status": "degraded", "database": "unavailable"}


def test_healthz_needs_no_csrf_token_even_with_csrf_on(app_with):
    strict = app_with(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200


def test_workers_endpoint_counts_workers_and_jobs_without_payloads_or_errors(client, rows):
    running = rows.job(state=JobState.RUNNING, payload={"video_id": 7, "note": "private-payload"})
    rows.worker(state=WorkerState.BUSY, job_id=running.id, jobs_done=4)
    rows.worker(seconds_ago=3600, hostname="worker-b")  # killed an hour ago
    rows.worker(seconds_ago=10, state=WorkerState.STOPPED, hostname="worker-c")  # stopped cleanly
    rows.job(state=JobState.QUEUED)
    rows.job(state=JobState.QUEUED)
    rows.job(kind="game_build", state=JobState.FAILED, error="private-error")
    rows.job(kind="game_build", state=JobState.DEAD, error="private-error")
    rows.job(kind="game_build", state=JobState.DONE)

    response = client.get("/healthz/workers")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["workers_alive"] == 1
    assert body["queue"] == {
        "game_build": {"queued": 0, "running": 0, "failed": 1, "dead": 1},
        "video.transcode": {"queued": 2, "running": 1, "failed": 0, "dead": 0}}
    assert body["totals"] == {"queued": 2, "running": 1, "failed": 1, "dead": 1}
    by_host = {w["hostname"]: w for w in body["workers"]}
    assert set(by_host) == {"worker-a", "worker-b"}  # the cleanly stopped one is history
    busy = by_host["worker-a"]
    assert (busy["state"], busy["stale"], busy["current_job_id"], busy["current_job_kind"], busy["jobs_done"]) == \
        ("busy", False, running.id, "video.transcode", 4)
    assert busy["last_seen_seconds_ago"] < 30
    assert by_host["worker-b"]["stale"] is True and by_host["worker-b"]["last_seen_seconds_ago"] >= 3600
    text = response.get_data(as_text=True)
    assert "private-payload" not in text and "private-error" not in text


def test_workers_endpoint_is_503_when_no_worker_is_alive(client, rows):
    rows.worker(seconds_ago=3600)
    rows.worker(state=WorkerState.STOPPED)
    response = client.get("/healthz/workers")
    assert response.status_code == 503
    assert response.get_json()["workers_alive"] == 0


def test_the_stale_threshold_follows_the_setting(app_with, rows):
    rows.worker(seconds_ago=20)
    assert app_with().test_client().get("/healthz/workers").status_code == 200  # default: the 60 s lease
    assert app_with(WORKER_STALE_SECONDS=5).test_client().get("/healthz/workers").status_code == 503


def test_workers_endpoint_answers_json_before_the_schema_exists(app_with, tmp_path):
    empty = app_with(DATABASE_URL=f"sqlite:///{tmp_path / 'not-migrated.sqlite3'}")
    client = empty.test_client()
    assert client.get("/healthz").status_code == 200  # the database answers; migrations are a deploy step
    response = client.get("/healthz/workers")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "ok", "workers": "unavailable"}
