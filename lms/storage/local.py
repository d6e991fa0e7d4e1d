"""Storage on the local disk under MEDIA_ROOT."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,500}$")


class StorageError(Exception):
    pass


class TooLarge(StorageError):
    def __init__(self, limit: int):
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class LocalStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not KEY_RE.match(key) or ".." in key.split("/") or "//" in key:
            raise StorageError(f"invalid storage key {key!r}")
        return self.root / key

    def put_stream(self, key: str, stream: BinaryIO, *, max_bytes: int) -> tuple[int, str]:
        """Copy `stream` to `key` chunk by chunk; returns (size, sha256). Nothing is left on failure."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def put_bytes(self, key: str, data: bytes) -> None:
        import io

        self.put_stream(key, io.BytesIO(data), max_bytes=len(data))

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix.rstrip("/")), ignore_errors=True)

    def list_prefixes(self, prefix: str) -> list[str]:
        folder = self.path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(f"{prefix.rstrip('/')}/{p.name}" for p in folder.iterdir() if p.is_dir())

    def delete_siblings(self, folder: str, keep: str) -> None:
        """Remove every sub-folder of `folder` except `keep` (older attempts, once one is published)."""
        for old in self.list_prefixes(folder):
            if old != keep:
                self.delete_prefix(old)

    def scratch_dir(self, prefix: str) -> Path:
        """A folder the worker writes into directly; on disk it already is the destination."""
        folder = self.path(prefix.rstrip("/"))
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def local_copy(self, key: str) -> Path:
        """A path ffmpeg can read; on disk, the file itself."""
        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"{key} is missing from storage")
        return path
