"""Where the form parser writes an uploaded file, counted and hashed as it arrives.

Without it every byte of a submission was written to a temporary file by the parser, read back,
hashed and written again by storage (bench/deadline_spike.py: about a third of the CPU per file).
A spool sits where storage can adopt it cheaply: beside MEDIA_ROOT's files (a rename) on disk, in
the temporary folder on S3 (one upload, no second hash).
"""
from __future__ import annotations

import hashlib
import io
import os
import time
import uuid
from pathlib import Path

from werkzeug.exceptions import RequestEntityTooLarge

SPOOL_DIR = ".spool"  # a leading dot: no storage key can name it
STALE_SECONDS = 24 * 3600


class HashingSpool(io.RawIOBase):
    """A read/write file for werkzeug's parser that keeps the size and SHA-256 of what it wrote."""

    def __init__(self, folder: Path, limit: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.path, self.limit = folder / f"{uuid.uuid4().hex}.part", limit
        self.file = open(self.path, "w+b")  # noqa: SIM115  closed (and removed unless adopted) in close()
        self.digest, self.size = hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.limit:  # the body's own cap stops this first; a backstop
            raise RequestEntityTooLarge()
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

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def close(self) -> None:
        if not self.closed:
            self.file.close()
            self.path.unlink(missing_ok=True)  # already gone once adopted
        super().close()


def sweep(folder: Path) -> None:
    """Spools a killed process left behind."""
    cutoff = time.time() - STALE_SECONDS
    for path in folder.glob("*.part") if folder.is_dir() else ():
        try:
            if path.stat().st_mtime < cutoff:
                os.unlink(path)
        except OSError:
            pass
