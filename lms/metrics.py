"""Prometheus metrics: GET /metrics on the web app, and a port of its own on each worker.

Web: request latency per endpoint, bytes received by the upload routes, and the job queue's depth
(read from the database at each scrape, so every web process reports the same queue). Under
gunicorn each worker process counts for itself; with PROMETHEUS_MULTIPROC_DIR set (deploy's
gunicorn.conf.py does it) a scrape adds up all of them. Workers (`flask lms worker --metrics-port`):
how long each kind of job ran and how it ended.

Counts only, like /healthz: no job payloads, no users, no errors. Set LMS_METRICS_TOKEN to require
`Authorization: Bearer <token>` from the scraper.
"""
from __future__ import annotations

import hmac
import os
import time

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
                               multiprocess)
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram("lms_http_request_duration_seconds", "Time to answer a request, by endpoint.",
                            ["method", "endpoint", "status"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
UPLOAD_BYTES = Counter("lms_upload_bytes_total", "Request bytes received by the upload routes.", ["endpoint"])
JOB_SECONDS = Histogram("lms_job_duration_seconds", "How long a job's attempt ran, by kind and outcome.",
                        ["kind", "outcome"], buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600))
UPLOAD_ENDPOINTS = frozenset({"uploads.put_part", "video.upload", "assignments.submit", "grading.grade"})


class QueueCollector:
    """Jobs waiting, running, failing and dead, per kind: one grouped query at scrape time."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from lms.jobs import health

        family = GaugeMetricFamily("lms_jobs", "Jobs in the queue by kind and state.", labels=["kind", "state"])
        with self.app.app_context():
            try:
                for kind, states in health.queue_depth().items():
                    for state, count in states.items():
                        family.add_metric([kind, state], count)
            except Exception:  # noqa: BLE001 - the database is down: /healthz says so; metrics go on
                current_app.logger.warning("metrics: the queue could not be read")
        yield family


def _registry(app: Flask) -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return registry


def register(app: Flask) -> None:
    queue_registry = CollectorRegistry()
    queue_registry.register(QueueCollector(app))

    @app.before_request
    def _started():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observed(response):
        started = g.pop("metrics_started", None)
        endpoint = request.endpoint or "unmatched"  # a bounded set of labels, never the raw path
        if started is not None and endpoint != "metrics":
            REQUEST_SECONDS.labels(request.method, endpoint, str(response.status_code)).observe(
                time.perf_counter() - started)
        if endpoint in UPLOAD_ENDPOINTS and request.method in ("POST", "PUT") and request.content_length:
            UPLOAD_BYTES.labels(endpoint).inc(request.content_length)
        return response

    @app.get("/metrics", endpoint="metrics")
    def metrics():
        token = app.config.get("METRICS_TOKEN")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token and not hmac.compare_digest(given, token):
            abort(401)
        body = generate_latest(_registry(app)) + generate_latest(queue_registry)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def serve_worker_metrics(port: int) -> None:
    """A worker's own /metrics (job durations and outcomes), on its own port."""
    from prometheus_client import start_http_server

    start_http_server(port)
