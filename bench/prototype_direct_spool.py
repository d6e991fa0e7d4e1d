"""A measurement prototype for bench/deadline_spike.py, not a fix: nothing in lms/ changes.

The submit path with the file part spooled by the multipart parser straight into
MEDIA_ROOT/submissions/ (a .part file on the same file system), counted and hashed while it is
written; store_file then checks the head and renames the file into place instead of reading the spool
back, hashing and writing it again. Serve it as ours:

    PYTHONPATH=bench .venv/bin/python bench/deadline_spike.py --sizes 20 --app prototype_direct_spool:app

It replaces lms.assignments.services.store_file at import, for every caller in that process, and
enforces only SUBMISSION_MAX_BYTES while spooling (the assignment's cap after), so it is for the
benchmark only. Written against store_file as of 2026-11-24.
"""
from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path

from flask import Request, current_app

from lms import create_app
from lms.assignments import services
from lms.assignments.filetypes import HEAD_BYTES, FileRejected, check
from lms.assignments.models import SubmissionFile
from lms.errors import DomainError
from lms.storage import TooLarge, get_storage


class HashingSpool(io.RawIOBase):
    """What the parser writes the file part into: a .part file under MEDIA_ROOT, hashed as it grows."""

    def __init__(self, folder: Path, limit: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.path, self.limit = folder / f".{uuid.uuid4().hex}.part", limit
        self.file = open(self.path, "w+b")  # noqa: SIM115  closed in close()
        self.digest, self.size = hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(self.limit)
        self.digest.update(data)
        return self.file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def readinto(self, buffer) -> int:
        return self.file.readinto(buffer)

    def seek(self, *args) -> int:
        return self.file.seek(*args)

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        if not self.closed:
            self.file.close()
            self.path.unlink(missing_ok=True)  # already gone once renamed into place
        super().close()


class DirectSpoolRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return HashingSpool(Path(current_app.config["MEDIA_ROOT"]) / "submissions",
                            current_app.config["SUBMISSION_MAX_BYTES"])


_store_file = services.store_file


def store_file(upload, allowed, max_bytes, stored):
    spool = upload.stream
    if not isinstance(spool, HashingSpool):
        return _store_file(upload, allowed, max_bytes, stored)
    head = spool.read(HEAD_BYTES)
    try:
        media_type = check(upload.filename, head, allowed)
    except FileRejected as exc:
        raise DomainError(str(exc)) from None
    if spool.size > max_bytes:
        raise TooLarge(max_bytes)
    key = f"submissions/{uuid.uuid4().hex}"
    os.replace(spool.path, get_storage().path(key))
    stored.append(key)
    return SubmissionFile(storage_key=key, filename=upload.filename[:255], size=spool.size,
                          sha256=spool.digest.hexdigest(), media_type=media_type)


services.store_file = store_file
app = create_app()
app.request_class = DirectSpoolRequest
