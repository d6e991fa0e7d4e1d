"""Security headers on every response."""
from __future__ import annotations

from flask import Flask, Response


def content_security_policy(sandbox_origin: str) -> str:
    """The app's own pages: strict. Game builds appear only in frames from the sandbox origin."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",  # hls.js demuxes in a worker built from a blob
        f"frame-src {sandbox_origin}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def register_security_headers(app: Flask) -> None:
    production = app.config["PRODUCTION"]
    csp = content_security_policy(app.config["SANDBOX_ORIGIN"])

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response
