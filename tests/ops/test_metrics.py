"""GET /metrics: request latencies per endpoint, upload bytes and the queue's depth, for Prometheus."""
from __future__ import annotations

import re

from prometheus_client import CONTENT_TYPE_LATEST

from lms.jobs import queue
from lms.extensions import db
from tests.assignments.conftest import PNG, make_assignment, submit_files
from tests.video.conftest import login


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_uploads_and_the_queue(app, client, make):
    before = client.get("/metrics").get_data(as_text=True)
    client.get("/healthz")
    queue.enqueue("transcode", {"video_id": 1})
    queue.enqueue("transcode", {"video_id": 2})
    db.session.commit()
    student = make.user()
    assignment = make_assignment(make.offering(students=[student]))
    browser = login(app, student)
    submit_files(browser, assignment, [("art.png", PNG)])
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    text = response.get_data(as_text=True)
    name = "lms_http_request_duration_seconds_count"
    assert sample(text, name, endpoint="ops.healthz", method="GET", status="200") == \
        sample(before, name, endpoint="ops.healthz", method="GET", status="200") + 1
    assert sample(text, "lms_upload_bytes_total", endpoint="assignments.submit") >= \
        sample(before, "lms_upload_bytes_total", endpoint="assignments.submit") + len(PNG)
    assert sample(text, "lms_jobs", kind="transcode", state="queued") == 2
    assert student.email not in text and not re.search(r'endpoint="/', text)  # endpoints, never raw paths or people


def test_a_metrics_token_is_required_when_set(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-token-for-prometheus"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token-for-prometheus"}).status_code == 200
