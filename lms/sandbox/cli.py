"""`flask lms sandbox`: the sandbox origin on the development server (`make run` starts it)."""
from __future__ import annotations

from urllib.parse import urlsplit

import click


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port [default: LMS_SANDBOX_ORIGIN's port, or 5001].")
def sandbox_command(host: str, port: int | None) -> None:
    """Serve game builds on LMS_SANDBOX_ORIGIN. In production run
    gunicorn 'lms.sandbox:create_sandbox_app()' instead."""
    from werkzeug.serving import run_simple

    from lms.sandbox import create_sandbox_app

    app = create_sandbox_app()
    origin = app.config["SANDBOX_ORIGIN"]
    port = port or urlsplit(origin).port or 5001
    click.echo(f"Game builds are served from {origin}/ (sandbox, listening on {host}:{port})")
    run_simple(host, port, app, threaded=True, use_reloader=False)
