"""Health checks for machines: GET /healthz (this web process), GET /healthz/workers, and
`flask lms worker-health` (for a container or systemd health check on a worker machine).

No login on purpose: load balancers and monitors call these without a session. So they show only
up/down and counts — never job payloads, errors, settings or stack traces (the reasons go to the log).
They are GETs and change nothing; the blueprint is CSRF-exempt all the same, so a monitor's HEAD or
a misconfigured POST probe never meets a CSRF error page.
"""
from __future__ import annotations

import logging
import os
import socket

import click
from flask import Blueprint, Flask, jsonify
from flask.cli import with_appcontext

from lms.extensions import csrf
from lms.jobs import health

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


def web_status() -> dict:
    """This process's checks: the database (SELECT 1), storage (one cheap read) and free disk space.
    Low space is a warning (200): pages still work, but uploads and transcodes are about to fail."""
    database, storage, disk_low = health.database_ok(), health.storage_ok(), bool(health.low_disks())
    status = "degraded" if not (database and storage) else "warning" if disk_low else "ok"
    return {"status": status,
            "database": "ok" if database else "unavailable",
            "storage": "ok" if storage else "unavailable",
            "disk": "low" if disk_low else "ok",
            "host": socket.gethostname(), "pid": os.getpid()}


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # a cached "ok" would hide an outage
    return response


@bp.get("/healthz")
def healthz():
    status = web_status()
    # Any failed check is 503: a load balancer takes this process out until it recovers (most
    # balancers send traffic to all targets when every one of them fails, e.g. during an S3 outage).
    body = {k: status[k] for k in ("status", "database", "storage", "disk")}
    return _no_store(jsonify(body)), 503 if status["status"] == "degraded" else 200


@bp.get("/healthz/workers")
def healthz_workers():
    if not health.database_ok():
        return _no_store(jsonify({"status": "degraded", "database": "unavailable"})), 503
    try:
        workers = health.workers(include_stopped=False)  # cleanly stopped ones are history
        depth = health.queue_depth()
    except Exception:  # noqa: BLE001 - e.g. `flask db upgrade` not run yet: JSON, never an error page
        log.exception("health check: cannot read workers and jobs")
        return _no_store(jsonify({"status": "degraded", "database": "ok", "workers": "unavailable"})), 503
    alive = [w for w in workers if w.alive]
    body = {"status": "ok" if alive else "degraded",
            "stale_after_seconds": health.stale_after().total_seconds(),
            "workers_alive": len(alive),
            "workers": [w.public() for w in workers[:100]],
            "queue": depth, "totals": health.totals(depth)}
    return _no_store(jsonify(body)), 200 if alive else 503


@click.command("worker-health")
@click.option("--stale-after", type=float, default=None,
              help="Seconds since the last heartbeat before a worker counts as gone "
                   "(default: LMS_WORKER_STALE_SECONDS, else the job lease, at least 30).")
@click.pass_context
@with_appcontext
def worker_health_command(ctx: click.Context, stale_after: float | None) -> None:
    """Exit 0 when a worker has a fresh heartbeat, 1 otherwise (a container/systemd health check)."""
    if not health.database_ok():
        click.echo("database unavailable", err=True)
        ctx.exit(1)
    workers = health.workers(include_stopped=False, stale_seconds=stale_after)
    click.echo(f"{'worker':<40} {'state':<9} {'seen s ago':>10} {'job':>8} {'done':>6}")
    for w in workers:
        mark = "  STALE" if w.stale else ""
        click.echo(f"{w.worker_id[:40]:<40} {w.state:<9} {w.age_seconds:>10.1f} "
                   f"{w.current_job_id or '-':>8} {w.jobs_done:>6}{mark}")
    depth = health.totals(health.queue_depth())
    click.echo("queue: " + ", ".join(f"{state} {count}" for state, count in depth.items()))
    alive = sum(1 for w in workers if w.alive)
    click.echo(f"{alive} worker(s) alive")
    ctx.exit(0 if alive else 1)


def register(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
