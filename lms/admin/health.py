"""System health for administrators: this web process, the workers, the queue, and failed jobs.

A constant number of queries however many workers and jobs there are: one SELECT 1, one for the
workers with their current job's kind, one grouped count, one for the latest failures.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lms.admin.views import admins, bp
from lms.extensions import db
from lms.jobs import health, queue
from lms.jobs.models import Job, JobState
from lms.loading import load_or_404
from lms.ops import web_status


@bp.route("/health")
@admins
def system_health():
    web = web_status()
    workers = health.workers() if web["database"] == "ok" else []
    depth = health.queue_depth() if web["database"] == "ok" else {}
    failures = health.recent_failures() if web["database"] == "ok" else []
    return render_template("admin/health.html", web=web, workers=workers, depth=depth,
                           totals=health.totals(depth), failures=failures,
                           stale_after=int(health.stale_after().total_seconds()), states=health.ACTIVE)


@bp.route("/health/jobs/<int:job_id>/retry", methods=["POST"])
@admins
def retry_job(job_id: int):
    # Only dead jobs: no worker ever claims one, so resetting it cannot race a running attempt
    # (a failed job is retried by the queue itself after its backoff).
    job = load_or_404(Job, job_id)
    if job.state == JobState.DEAD:
        queue.retry_now(job)
        db.session.commit()
        flash(_("Job %(id)s is queued again.", id=job.id), "success")
    else:
        flash(_("Job %(id)s is not dead; it was left alone.", id=job.id), "info")
    return redirect(url_for("admin.system_health"))
