"""Security headers on every response."""
from __future__ import annotations

from flask import Flask, Response


def content_security_policy(sandbox_origin: str, media_origin: str | None = None) -> str:
    """The app's own pages: strict. Game builds appear only in frames from the sandbox origin; with
    S3 storage, players fetch segments and posters, and uploads send parts, to the bucket's origin."""
    store = f" {media_origin}" if media_origin else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"connect-src 'self'{store}",
        f"img-src 'self' data: blob:{store}",
        f"media-src 'self' blob:{store}",
        "worker-src 'self' blob:",  # hls.js demuxes in a worker built from a blob
        f"frame-src {sandbox_origin}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def register_security_headers(app: Flask) -> None:
    production = app.config["PRODUCTION"]
    csp = content_security_policy(app.config["SANDBOX_ORIGIN"], _media_origin(app))

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # A page whose address is a secret (a portfolio link) asks for no-referrer itself.
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response


def _media_origin(app: Flask) -> str | None:
    """The origin presigned URLs point at (computed locally: signing needs no network)."""
    from urllib.parse import urlsplit

    from lms.storage import get_storage

    storage = get_storage(app)
    try:
        url = storage.presigned_url("csp-origin-probe", expires=60)
    except Exception:  # no credentials here (a migration run): the configured endpoint, if any
        app.logger.warning("Could not sign a URL for the S3 bucket; check the AWS credentials.")
        url = getattr(storage, "endpoint_url", None)
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None  # nginx secure links: same origin
