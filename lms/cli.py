"""`flask lms ...`: course import, demo data, first admin."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.credentials.cli import credentials_cli, keys_cli
from lms.extensions import db
from lms.jobs.cli import jobs_cli
from lms.ops import worker_health_command
from lms.sandbox.cli import sandbox_command

lms_cli = AppGroup("lms", help="Kakehashi commands.")
courses_cli = AppGroup("courses", help="Courses as files.")
lms_cli.add_command(courses_cli)
lms_cli.add_command(sandbox_command)
lms_cli.add_command(worker_health_command)
lms_cli.add_command(keys_cli)
lms_cli.add_command(credentials_cli)
lms_cli.add_command(jobs_cli)


@courses_cli.command("import")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def import_courses(path: Path | None) -> None:
    """Import or update courses from PATH (default: the courses/ folder)."""
    from lms.catalog.importer import CourseFileError, apply_course, copy_assets, read_courses

    path = path or Path(current_app.config["COURSES_DIR"])
    try:
        specs = read_courses(path)
        if not specs:
            raise CourseFileError([f"{path}: no course folders (with a course.yaml) found"])
        courses = [apply_course(spec) for spec in specs]
    except CourseFileError as exc:
        db.session.rollback()
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        raise click.ClickException(f"{len(exc.errors)} problem(s); nothing was imported.")
    db.session.commit()
    for spec, course in zip(specs, courses):
        copy_assets(spec)
        lessons = sum(len(m.lessons) for m in spec.modules)
        click.echo(f"imported {course.code} {course.title_en} ({len(spec.modules)} modules, {lessons} lessons)")


@lms_cli.command("demo")
def demo() -> None:
    """Load the demo data and courses/ once (skipped when users exist)."""
    from lms.catalog.importer import CourseFileError, copy_assets
    from lms.demo import load_demo

    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Demo data is not loaded in production.")
    try:
        specs = load_demo(Path(current_app.config["COURSES_DIR"]))
    except CourseFileError as exc:
        db.session.rollback()
        raise click.ClickException("courses/ has errors:\n" + "\n".join(exc.errors))
    db.session.commit()
    if specs is None:
        click.echo("database already has users; demo data left as it is")
        return
    for spec in specs:
        copy_assets(spec)
    click.echo("demo data loaded")


@lms_cli.command("logins")
def logins() -> None:
    """Print the demo logins."""
    from lms.demo import demo_logins

    for role, email, password in demo_logins():
        click.echo(f"  {role:<11} {email:<26} {password}")


@lms_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
def create_admin(email: str, name: str) -> None:
    """Create an administrator and print a one-time password (changed at first login)."""
    from lms.auth.models import Role
    from lms.auth.services import create_user
    from lms.errors import DomainError

    try:
        _user, password = create_user(email=email, name_latin=name, role=Role.ADMIN)
    except DomainError as exc:
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(f"created {email}; one-time password: {password}")


@lms_cli.command("backup")
@click.argument("folder", type=click.Path(path_type=Path))
def backup_command(folder: Path) -> None:
    """Back up the database, media on disk and the issuer keys into a new FOLDER."""
    from lms.backup import BackupError, backup

    try:
        manifest = backup(folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up the {manifest['database']} database (revision {manifest['alembic_revision']}), "
               f"{'media and ' if manifest['storage'] == 'local' else ''}issuer keys into {folder}.")
    if manifest["storage"] != "local":
        click.echo("Media are in the bucket: keep its versioning on (see the README).")


@lms_cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask; the database is replaced.")
def restore_command(folder: Path, yes: bool) -> None:
    """Replace the database (and media on disk, and issuer keys) with the backup in FOLDER.
    Stop the web app and the workers first."""
    from lms.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces the database with the backup. Go on?", abort=True)
    try:
        manifest = restore(folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored the backup made at {manifest['made_at']}. Run `flask db upgrade` if this code is newer.")


@lms_cli.command("worker")
@click.option("--metrics-port", type=int, default=None, envvar="LMS_WORKER_METRICS_PORT",
              help="Serve this worker's Prometheus metrics (job durations and outcomes) on this port.")
@click.option("--drain", is_flag=True, help="Stop when no job is due (for scripts and tests).")
def worker(drain: bool, metrics_port: int | None) -> None:
    """Run background jobs (transcoding, exports, notifications; the periodic checks) until SIGTERM."""
    import logging

    from lms.jobs.worker import Worker

    from lms.jobs import events

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    events.to_stdout()  # JSON lines per job event on stdout; the human log stays on stderr
    if metrics_port:
        from lms.metrics import serve_worker_metrics

        serve_worker_metrics(metrics_port)
    runner = Worker(current_app._get_current_object(), lease_seconds=current_app.config["WORKER_LEASE_SECONDS"],
                    periodic=True)  # deployed workers also queue the hourly deadline check and daily digest
    runner.install_signal_handlers()
    click.echo(f"worker {runner.id} started")
    count = runner.run(drain=drain)
    click.echo(f"worker {runner.id} stopped after {count} job(s)")


@lms_cli.command("s3-setup")
def s3_setup() -> None:
    """Let browsers on the app's origin send upload parts to the bucket and play media from it."""
    from flask import current_app

    from lms.storage import get_storage

    storage = get_storage()
    if storage.kind != "s3":
        raise click.ClickException("LMS_STORAGE is not s3: nothing to set up.")
    origin = current_app.config["APP_ORIGIN"]
    storage.apply_cors([origin])
    click.echo(f"Bucket {storage.bucket}: CORS allows GET/HEAD/PUT from {origin} and exposes ETag.")
