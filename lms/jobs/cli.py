"""`flask lms jobs list|retry|cancel`: the queue for operators, without opening the database."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState

jobs_cli = AppGroup("jobs", help="The background job queue.")
STATES = [s.value for s in JobState]


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise click.ClickException(f"There is no job {job_id}.")
    return job


@jobs_cli.command("list")
@click.option("--state", type=click.Choice(STATES), multiple=True, help="Only jobs in this state (repeatable).")
@click.option("--kind", help="Only jobs of this kind (transcode, game_build, ...).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_jobs(state: tuple[str, ...], kind: str | None, limit: int) -> None:
    """The newest jobs first, with their attempts, progress and last error."""
    query = select(Job).order_by(Job.updated_at.desc(), Job.id.desc()).limit(limit)
    if state:
        query = query.where(Job.state.in_(state))
    if kind:
        query = query.where(Job.kind == kind)
    click.echo(f"{'id':>7}  {'kind':<20} {'state':<8} {'tries':>5} {'done':>5}  {'updated (UTC)':<19}  last error")
    for job in db.session.scalars(query):
        error = (job.last_error or "").strip().splitlines()[0][:70] if job.last_error else ""
        click.echo(f"{job.id:>7}  {job.kind[:20]:<20} {job.state:<8} {job.attempts:>2}/{job.max_attempts:<2} "
                   f"{round((job.progress or 0) * 100):>4}%  {job.updated_at:%Y-%m-%d %H:%M:%S}  {error}")


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def retry(job_id: int) -> None:
    """Another go for a dead or failing job, with a fresh set of attempts."""
    job = _job(job_id)
    if job.state not in (JobState.DEAD, JobState.FAILED):
        raise click.ClickException(f"Job {job_id} is {job.state}; only dead or failed jobs can be retried.")
    queue.retry_now(job)
    db.session.commit()
    click.echo(f"Job {job_id} ({job.kind}) is queued again.")


@jobs_cli.command("cancel")
@click.argument("job_id", type=int)
@click.option("--reason", default="Cancelled by an operator.", show_default=True)
def cancel(job_id: int, reason: str) -> None:
    """Stop a queued, failing or running job for good (a running one's worker stops it)."""
    job = _job(job_id)
    if job.state in (JobState.DONE, JobState.DEAD):
        raise click.ClickException(f"Job {job_id} is already {job.state}.")
    was = job.state
    queue.cancel(job, reason)
    db.session.commit()
    click.echo(f"Job {job_id} ({job.kind}) was {was}; it is cancelled.")
