"""Storage on the local disk under MEDIA_ROOT (the default, and what the tests run most on)."""
from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from lms.storage.base import CHUNK, Hashing, NotStored, Part, Storage, StorageError, TooLarge, check_key
from lms.storage.secure_link import SecureLink

MULTIPART_DIR = ".multipart"  # a leading dot: no generated key can reach it
UPLOAD_ID_LEN = 32


class LocalStorage(Storage):
    kind = "local"

    def __init__(self, root: str | Path, *, secure_link: SecureLink | None = None):
        self.root = Path(root)
        self.secure_link = secure_link
        self.signs_urls = secure_link is not None

    def presigned_url(self, key: str, *, expires: int, filename: str | None = None,
                      content_type: str | None = None, inline: bool = False) -> str | None:
        """Behind nginx with secure_link, segments, posters and images go out as signed links nginx
        checks itself; downloads that need a file name stay with the app."""
        if self.secure_link is None or filename is not None:
            return None
        return self.secure_link.url(check_key(key), expires)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_stream(self, key: str, stream: BinaryIO, *, max_bytes: int,
                   content_type: str | None = None) -> tuple[int, str]:
        target = self.path(key)
        counter = Hashing(max_bytes)
        with self._atomic(target) as out:
            for chunk in counter.chunks(stream):
                out.write(chunk)
        return counter.size, counter.sha256

    @contextmanager
    def _atomic(self, target: Path) -> Iterator[BinaryIO]:
        """Write beside `target`, then rename: readers see the whole file or none."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with partial.open("wb") as out:
                yield out
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def spool(self, limit: int):
        from lms.storage.spool import SPOOL_DIR, HashingSpool

        return HashingSpool(self.root / SPOOL_DIR, limit)  # same file system: adopting is a rename

    def sweep_spool(self) -> None:
        from lms.storage.spool import SPOOL_DIR, sweep

        sweep(self.root / SPOOL_DIR)

    def adopt(self, spool, key: str, *, content_type: str | None = None) -> tuple[int, str]:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        spool.file.flush()
        os.replace(spool.path, target)
        return spool.size, spool.sha256

    def _file(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise NotStored(f"{key} is missing from storage")
        return path

    def open(self, key: str) -> BinaryIO:
        return self._file(key).open("rb")

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with self.open(key) as stream:
            stream.seek(start)
            return stream.read(length)

    def size(self, key: str) -> int:
        return self._file(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix.rstrip("/")), ignore_errors=True)

    def list_prefixes(self, prefix: str) -> list[str]:
        folder = self.path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(f"{prefix.rstrip('/')}/{p.name}" for p in folder.iterdir() if p.is_dir())

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        yield self._file(key)  # on disk, the file itself: no copy

    @contextmanager
    def output_dir(self, prefix: str) -> Iterator[Path]:
        folder = self.path(prefix.rstrip("/"))  # on disk the folder already is the destination
        folder.mkdir(parents=True, exist_ok=True)
        yield folder

    # -- uploads in parts: each part a file, joined on completion ---------------------------------
    def _upload_dir(self, key: str, upload_id: str) -> Path:
        if len(upload_id) != UPLOAD_ID_LEN or not upload_id.isalnum():
            raise NotStored("no such upload")
        folder = self.root / MULTIPART_DIR / upload_id
        try:
            owner = (folder / "key").read_text()
        except OSError:
            raise NotStored("no such upload") from None
        if owner != check_key(key):  # an upload id is only good for the key it was started for
            raise NotStored("no such upload")
        return folder

    def start_multipart(self, key: str, content_type: str) -> str:
        upload_id = uuid.uuid4().hex
        folder = self.root / MULTIPART_DIR / upload_id
        folder.mkdir(parents=True)
        (folder / "key").write_text(check_key(key))
        return upload_id

    def put_part(self, key: str, upload_id: str, number: int, stream: BinaryIO, *, max_bytes: int) -> Part:
        folder = self._upload_dir(key, upload_id)
        md5 = hashlib.md5(usedforsecurity=False)  # S3's part ETag, so both backends answer alike
        counter = Hashing(max_bytes)
        with self._atomic(folder / f"{number:05d}.part") as out:
            for chunk in counter.chunks(stream):
                md5.update(chunk)
                out.write(chunk)
        return Part(number, counter.size, md5.hexdigest())

    def discard_part(self, key: str, upload_id: str, number: int) -> None:
        (self._upload_dir(key, upload_id) / f"{number:05d}.part").unlink(missing_ok=True)

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        folder = self._upload_dir(key, upload_id)
        parts = []
        for path in sorted(folder.glob("*.part")):
            if path.name.startswith("."):
                continue
            md5 = hashlib.md5(usedforsecurity=False)
            with path.open("rb") as stream:
                while chunk := stream.read(CHUNK):
                    md5.update(chunk)
            parts.append(Part(int(path.stem), path.stat().st_size, md5.hexdigest()))
        return parts

    def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> tuple[int, str]:
        folder = self._upload_dir(key, upload_id)
        stored = {p.number: p for p in self.list_parts(key, upload_id)}
        if not parts or any(stored.get(p.number) is None or stored[p.number].etag != p.etag for p in parts):
            raise StorageError("the parts named do not match the parts uploaded")
        counter = Hashing(sum(p.size for p in parts))
        with self._atomic(self.path(key)) as out:
            for part in sorted(parts, key=lambda p: p.number):
                with (folder / f"{part.number:05d}.part").open("rb") as stream:
                    for chunk in counter.chunks(stream):
                        out.write(chunk)
        shutil.rmtree(folder, ignore_errors=True)
        return counter.size, counter.sha256

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            shutil.rmtree(self._upload_dir(key, upload_id), ignore_errors=True)
        except NotStored:
            pass


__all__ = ["LocalStorage", "TooLarge"]
