"""The limit for bench/deadline_spike.py: a bare WSGI app that saves the request body and answers 201.

No framework, no form parsing, no hashing, no database: it reads `wsgi.input` in 1 MB chunks and
writes them to a new file under $BARE_UPLOAD_DIR, as fast as the server hands the body over. With
BARE_SHA256=1 it also hashes the body on the way (SHA-256, as our receipts need): a second reference,
not the limit. The benchmark serves it with the same gunicorn settings as the app:

    BARE_UPLOAD_DIR=/tmp/x .venv/bin/gunicorn --pythonpath bench --worker-class gthread ... bare_upload:app
"""
from __future__ import annotations

import hashlib
import os
import uuid

CHUNK = 1024 * 1024
ROOT = os.environ.get("BARE_UPLOAD_DIR", "bare-uploads")
SHA256 = os.environ.get("BARE_SHA256") == "1"


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":  # readiness probe
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    os.makedirs(ROOT, exist_ok=True)
    path = os.path.join(ROOT, uuid.uuid4().hex)
    size, digest = 0, hashlib.sha256() if SHA256 else None
    with open(path, "wb") as out:
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            if digest:
                digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            remaining -= len(chunk)
    if remaining:  # the client went away mid-body: keep nothing, as the app would
        os.unlink(path)
        start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"truncated"]
    body = f"{size}".encode()
    start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
