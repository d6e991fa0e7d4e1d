"""Stored files to the browser: a redirect to a presigned URL on S3 (the web process carries no
media bytes), the file itself from disk."""
from __future__ import annotations

from flask import abort, redirect, send_file

from lms.filenames import content_disposition
from lms.storage import StorageError, get_storage

DOWNLOAD_URL_SECONDS = 300  # long enough to start the download; a copied link soon stops working


def deliver(key: str, *, mimetype: str, filename: str | None = None, inline: bool = False,
            max_age: int = 0, expires: int = DOWNLOAD_URL_SECONDS):
    """The stored file, or 404 when storage no longer has it."""
    storage = get_storage()
    try:
        url = storage.presigned_url(key, expires=expires, filename=filename, content_type=mimetype,
                                    inline=inline)
        if url is not None:
            response = redirect(url, 302)
            response.headers["Cache-Control"] = "private, no-store"  # the signature is the user's
            return response
        with storage.local_file(key) as path:
            response = send_file(path, mimetype=mimetype, conditional=True, max_age=max_age)
    except StorageError:
        abort(404)
    response.headers["Content-Type"] = mimetype  # as given: werkzeug would add a second "; charset"
    if filename or not inline:  # the one helper, as on S3: send_file's own would take raw names
        response.headers["Content-Disposition"] = content_disposition(filename or key.rsplit("/", 1)[-1],
                                                                      inline=inline)
    return response
