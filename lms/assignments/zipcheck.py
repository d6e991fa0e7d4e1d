"""Inspect a game build's zip before anything is extracted, then extract it with running limits.

A zip can lie in every field, so nothing here trusts one field alone: the entry count is read from
the end record before Python parses the central directory, every name is checked as a path,
every entry's bytes on disk must not overlap another's (the overlapping-entries zip bomb), the
declared sizes and ratios are capped, and extraction counts the bytes it actually writes.
Messages are for the student who uploaded the zip, so each says what to change.
"""
from __future__ import annotations

import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lms.messages import Message
from lms.messages import later as _  # a job writes these; the student reads them in their language

CHUNK = 256 * 1024
ENTRY = "index.html"
# macOS Finder adds resource forks under __MACOSX/; they are checked like any entry, never extracted.
IGNORED_TOP = "__MACOSX"
# Below this size a high ratio cannot hurt (a page of CSS compresses 100:1), so ratios are not checked.
RATIO_MIN_BYTES = 1024 * 1024
# A central directory record is 46 bytes plus name, extra field and comment; real tools stay far below.
MAX_DIRECTORY_BYTES_PER_ENTRY = 2048
MAX_NAME_CHARS = 400
# What every zip tool and engine exporter writes; bzip2/LZMA would add decoders that fail in other ways.
SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
DRIVE_RE = re.compile(r"^[A-Za-z]:")
LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... file name length, extra field length
END_RECORD = struct.Struct("<4s4H2LH")
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


class BuildRejected(Exception):
    """The zip cannot be accepted; `message` tells the student what to change."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_entries: int = 5000
    max_bytes: int = 1024**3  # uncompressed, all files together
    max_ratio: float = 100.0

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(int(config["BUILD_MAX_ENTRIES"]), int(config["BUILD_MAX_BYTES"]),
                   float(config["BUILD_MAX_RATIO"]))


@dataclass(frozen=True)
class Inspection:
    entry: str  # "index.html" or "<folder>/index.html"
    files: tuple[zipfile.ZipInfo, ...]  # what extraction writes, in archive order
    declared_bytes: int


@dataclass(frozen=True)
class Extracted:
    file_count: int
    total_bytes: int


def inspect(source: str | Path | BinaryIO, limits: Limits) -> Inspection:
    """Check everything that can be checked without decompressing. Raises BuildRejected."""
    with _opened(source) as fp:
        _check_directory_size(fp, limits)
        with _zipfile(fp) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_entries:  # the end record may understate the count
                raise _too_many(len(infos), limits)
            for info in infos:
                _check_entry(info, limits)
            _check_unique_paths(infos)
            _check_no_overlap(fp, infos, archive.start_dir)
            files = tuple(i for i in infos if not i.is_dir() and _top(i.filename) != IGNORED_TOP)
            declared = sum(i.file_size for i in files)
            _check_totals(files, declared, limits)
            return Inspection(entry=_find_entry(files), files=files, declared_bytes=declared)


def extract(source: str | Path | BinaryIO, inspection: Inspection, dest: Path, limits: Limits,
            check: Callable[[], None] | None = None) -> Extracted:
    """Write the inspected files under `dest`, counting real bytes. Raises BuildRejected; the
    caller removes `dest` then. `check` is called between chunks (the job's cancel check)."""
    budget = _Budget(limits.max_bytes)
    root = dest.resolve()
    with _opened(source) as fp, _zipfile(fp) as archive:
        for info in inspection.files:
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root):  # unreachable after the name checks; kept as the last line
                raise BuildRejected(_("The zip contains an unsafe path: %(name)s.", name=info.filename))
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                # "xb": never overwrite, never follow a link that is already there.
                with archive.open(info) as src, target.open("xb") as out:
                    copy_capped(src, out, budget, info.file_size, info.filename, check)
            # Not OSError as a whole: a full disk is ours to retry, not the student's zip to blame.
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                    ValueError, FileExistsError):
                raise BuildRejected(_("The zip is damaged (%(name)s cannot be read). Create the zip again.",
                                      name=info.filename)) from None
    return Extracted(file_count=len(inspection.files), total_bytes=budget.used)


class _Budget:
    def __init__(self, limit: int):
        self.limit, self.used = limit, 0


def copy_capped(src: BinaryIO, out: BinaryIO, budget: _Budget, declared: int, name: str,
                check: Callable[[], None] | None = None) -> int:
    """Copy chunk by chunk; stop as soon as the entry passes its declared size or the whole build
    passes the cap, whatever the headers said."""
    written = 0
    while chunk := src.read(CHUNK):
        written += len(chunk)
        budget.used += len(chunk)
        if written > declared:
            raise BuildRejected(_("The zip is damaged: %(name)s is larger than the zip says. "
                                  "Create the zip again.", name=name))
        if budget.used > budget.limit:
            raise _too_big(budget.limit)
        out.write(chunk)
        if check is not None:
            check()
    return written


class _opened:
    """A path is opened and closed here; a file object is borrowed and rewound."""

    def __init__(self, source):
        self.source, self.owned = source, isinstance(source, (str, Path))

    def __enter__(self) -> BinaryIO:
        self.fp = open(self.source, "rb") if self.owned else self.source
        self.fp.seek(0)
        return self.fp

    def __exit__(self, *exc) -> None:
        if self.owned:
            self.fp.close()


def _zipfile(fp: BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError,
            struct.error, UnicodeDecodeError):
        raise BuildRejected(_("This is not a zip file we can read. Zip the folder that contains "
                              "index.html (a standard .zip, not .rar or .7z).")) from None


def _check_directory_size(fp: BinaryIO, limits: Limits) -> None:
    """Refuse a huge central directory before zipfile parses it into memory."""
    fp.seek(0, 2)
    size = fp.tell()
    tail_start = max(0, size - END_RECORD.size - 65535)
    fp.seek(tail_start)
    tail = fp.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < END_RECORD.size:
        raise BuildRejected(_("This is not a zip file we can read. Zip the folder that contains "
                              "index.html (a standard .zip, not .rar or .7z)."))
    _sig, _disk, _cd_disk, _here, count, cd_size, _cd_offset, _comment = END_RECORD.unpack_from(tail, at)
    end_at = tail_start + at
    if (count == 0xFFFF or cd_size == 0xFFFFFFFF) and end_at >= ZIP64_LOCATOR.size:
        fp.seek(end_at - ZIP64_LOCATOR.size)
        locator = ZIP64_LOCATOR.unpack(fp.read(ZIP64_LOCATOR.size))
        if locator[0] == b"PK\x06\x07":
            fp.seek(locator[2])
            raw = fp.read(ZIP64_END_RECORD.size)
            if len(raw) == ZIP64_END_RECORD.size and raw[:4] == b"PK\x06\x06":
                record = ZIP64_END_RECORD.unpack(raw)
                count, cd_size = record[7], record[8]
    if count > limits.max_entries:
        raise _too_many(count, limits)
    if cd_size > limits.max_entries * MAX_DIRECTORY_BYTES_PER_ENTRY:
        raise BuildRejected(_("The zip's list of contents is too large. Zip the build folder again with a "
                              "standard tool and without comments."))


def _check_entry(info: zipfile.ZipInfo, limits: Limits) -> None:
    name = info.orig_filename
    if (name.startswith("/") or DRIVE_RE.match(name) or "\\" in name or "\x00" in name
            or any(ord(c) < 32 or ord(c) == 127 for c in name) or len(name) > MAX_NAME_CHARS):
        raise BuildRejected(_("The zip contains an unsafe path: %(name)s. Zip the build folder itself, "
                              "with relative paths only.", name=_shown(name)))
    parts = name.rstrip("/").split("/")
    # 255 bytes is the longest file name Linux file systems take; longer would fail the extraction.
    if not name.rstrip("/") or any(p in ("", ".", "..") or len(p.encode()) > 255 for p in parts):
        raise BuildRejected(_("The zip contains an unsafe path: %(name)s. Zip the build folder itself, "
                              "with relative paths only.", name=_shown(name)))
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise BuildRejected(_("The zip contains a symbolic link (%(name)s). Replace links with the "
                              "real files and zip again.", name=_shown(name)))
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise BuildRejected(_("The zip contains a special file (%(name)s); only files and folders "
                              "are allowed.", name=_shown(name)))
    if info.flag_bits & 0x41:  # bit 0 traditional encryption, bit 6 strong encryption
        raise BuildRejected(_("%(name)s in the zip is password-protected. Zip the build without a "
                              "password.", name=_shown(name)))
    if info.compress_type not in SUPPORTED_METHODS:
        raise BuildRejected(_("%(name)s uses a compression method we cannot read. Create the zip with "
                              "standard (Deflate) compression.", name=_shown(name)))
    if info.file_size >= RATIO_MIN_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise BuildRejected(_("%(name)s is compressed more than %(ratio)s:1, which we do not accept. "
                              "Remove padding or filler files from the build.",
                              name=_shown(name), ratio=f"{limits.max_ratio:g}"))


def _check_unique_paths(infos: list[zipfile.ZipInfo]) -> None:
    """Two entries for one file (also by case or Unicode form, as on Windows and macOS disks), or a
    file where another entry needs a folder, would make the result depend on extraction order."""
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    for info in infos:
        name = info.filename.rstrip("/")
        key = unicodedata.normalize("NFC", name).casefold()
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), name)
        if info.is_dir():
            folders.setdefault(key, name)
            continue
        if key in files:
            raise BuildRejected(_("The zip contains %(name)s twice (names differing only in upper/lower "
                                  "case count as the same). Rename one and zip again.", name=_shown(name)))
        files[key] = name
    for key, name in files.items():
        if key in folders:
            raise BuildRejected(_("The zip uses %(name)s both as a file and as a folder. Rename one and "
                                  "zip again.", name=_shown(name)))


def _check_no_overlap(fp: BinaryIO, infos: list[zipfile.ZipInfo], directory_at: int) -> None:
    """Every entry's local header and data must sit in its own byte range before the central
    directory. Overlapping entries let a small zip expand to petabytes (David Fifield, 2019)."""
    spans = []
    for info in infos:
        fp.seek(info.header_offset)
        raw = fp.read(LOCAL_HEADER.size)
        if len(raw) != LOCAL_HEADER.size or raw[:4] != b"PK\x03\x04":
            raise _damaged(info.orig_filename)
        fields = LOCAL_HEADER.unpack(raw)
        start = info.header_offset
        end = start + LOCAL_HEADER.size + fields[9] + fields[10] + info.compress_size
        if end > directory_at:
            raise _damaged(info.orig_filename)
        spans.append((start, end, info.orig_filename))
    spans.sort()
    for (_start, end, _name), (next_start, _end, next_name) in zip(spans, spans[1:]):
        if next_start < end:
            raise BuildRejected(_("The zip's entries overlap (%(name)s), as in a zip bomb. Create the "
                                  "zip again with a standard tool.", name=_shown(next_name)))


def _check_totals(files: tuple[zipfile.ZipInfo, ...], declared: int, limits: Limits) -> None:
    if declared > limits.max_bytes:
        raise _too_big(limits.max_bytes)
    packed = sum(i.compress_size for i in files)
    if declared >= RATIO_MIN_BYTES and declared > limits.max_ratio * max(packed, 1):
        raise BuildRejected(_("The build is compressed more than %(ratio)s:1 overall, which we do not "
                              "accept. Remove padding or filler files from the build.",
                              ratio=f"{limits.max_ratio:g}"))


def _find_entry(files: tuple[zipfile.ZipInfo, ...]) -> str:
    names = {i.filename for i in files}
    if ENTRY in names:
        return ENTRY
    tops = {_top(n) for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        candidate = f"{tops.pop()}/{ENTRY}"
        if candidate in names:
            return candidate
    raise BuildRejected(_("The zip has no index.html at its top level (or in a single folder at the top). "
                          "Export the game for the web (WebGL/HTML5) and zip the folder that contains "
                          "index.html."))


def _top(name: str) -> str:
    return name.split("/", 1)[0]


def _shown(name: str) -> str:
    """A name safe to show: printable, not too long."""
    clean = "".join(c if c.isprintable() else "?" for c in name)
    return clean if len(clean) <= 120 else clean[:117] + "..."


def _damaged(name: str) -> BuildRejected:
    return BuildRejected(_("The zip is damaged (%(name)s cannot be read). Create the zip again.",
                           name=_shown(name)))


def _too_many(count: int, limits: Limits) -> BuildRejected:
    return BuildRejected(_("The zip has %(count)d entries; the limit is %(limit)d. Remove files the game "
                           "does not need, or pack assets together.", count=count, limit=limits.max_entries))


def _too_big(limit: int) -> BuildRejected:
    return BuildRejected(_("The build is larger than %(size)s MB when unpacked. Remove unused assets or "
                           "use the engine's compression.", size=f"{limit / 1024**2:g}"))
