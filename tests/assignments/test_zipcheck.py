"""zipcheck: every way a zip can attack the extractor is refused before (or while) extracting.

Hostile zips are written byte by byte with struct, because zipfile will not write most of them.
These tests need no database, so they run once, not per backend.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import pytest

from lms.assignments import zipcheck
from lms.assignments.zipcheck import BuildRejected, Limits
from tests.sandbox.helpers import make_zip, unity_files

LIMITS = Limits(max_entries=50, max_bytes=64 * 1024**2, max_ratio=100)


@dataclass
class Raw:
    """One entry as written: `data` is what is stored (already compressed for method 8)."""

    name: str
    data: bytes = b"x"
    method: int = 0
    crc: int | None = None
    usize: int | None = None
    csize: int | None = None
    flags: int = 0
    mode: int = 0o100644
    offset: int | None = None  # central directory points here instead of at its own header


def raw_zip(entries: list[Raw], *, local: list[Raw] | None = None, count: int | None = None) -> bytes:
    """Local headers for `local` (default: the entries), then a central directory for `entries`."""
    out, offsets = io.BytesIO(), {}
    for e in (entries if local is None else local):
        offsets[e.name] = out.tell()
        name = e.name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, _flags(e), e.method, 0, 0x21, _crc(e),
                              _csize(e), _usize(e), len(name), 0) + name + e.data)
    directory_at = out.tell()
    for e in entries:
        name = e.name.encode()
        offset = e.offset if e.offset is not None else offsets[e.name]
        out.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", (3 << 8) | 20, 20, _flags(e), e.method, 0, 0x21,
                              _crc(e), _csize(e), _usize(e), len(name), 0, 0, 0, 0, e.mode << 16, offset) + name)
    size = out.tell() - directory_at
    n = len(entries) if count is None else count
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, size, directory_at, 0))
    return out.getvalue()


def _flags(e: Raw) -> int:
    return e.flags | (0 if e.name.isascii() else 0x800)  # bit 11: the name is UTF-8


def _crc(e: Raw) -> int:
    return e.crc if e.crc is not None else zlib.crc32(e.data if e.method == 0 else _inflate(e.data))


def _csize(e: Raw) -> int:
    return e.csize if e.csize is not None else len(e.data)


def _usize(e: Raw) -> int:
    return e.usize if e.usize is not None else len(e.data if e.method == 0 else _inflate(e.data))


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def rejected(data: bytes, limits: Limits = LIMITS) -> str:
    with pytest.raises(BuildRejected) as info:
        zipcheck.inspect(io.BytesIO(data), limits)
    return str(info.value.message)  # the English text; lms.messages translates it for its reader


INDEX = Raw("index.html", b"<h1>game</h1>")


def test_unity_build_passes_and_extracts(tmp_path):
    data = make_zip(unity_files())
    path = tmp_path / "build.zip"
    path.write_bytes(data)
    inspection = zipcheck.inspect(path, LIMITS)  # a path works as well as a file object
    assert inspection.entry == "index.html"
    extracted = zipcheck.extract(path, inspection, tmp_path / "out", LIMITS)
    assert extracted.file_count == len(unity_files())
    assert extracted.total_bytes == sum(map(len, unity_files().values()))
    for name, content in unity_files().items():
        assert (tmp_path / "out" / name).read_bytes() == content


def test_single_top_folder_is_reported_and_macos_extras_are_skipped(tmp_path):
    files = {f"MyGame/{name}": data for name, data in unity_files().items()}
    files["__MACOSX/MyGame/._index.html"] = b"resource fork"
    inspection = zipcheck.inspect(io.BytesIO(make_zip(files)), LIMITS)
    assert inspection.entry == "MyGame/index.html"
    assert all(not i.filename.startswith("__MACOSX") for i in inspection.files)


@pytest.mark.parametrize("files", [
    {"game.html": b"x", "Build/x.wasm": b"y"},  # no index.html
    {"A/index.html": b"x", "B/index.html": b"y"},  # two top folders
    {"Game/Sub/index.html": b"x"},  # too deep
    {},  # empty
])
def test_an_index_html_is_required_at_the_top(files):
    assert "no index.html" in rejected(make_zip(files))


@pytest.mark.parametrize("name", [
    "../evil.html", "a/../../evil.html", "Build/..", "/etc/cron.d/evil", "C:/Windows/evil.dll", "c:evil",
    "..\\evil.html", "Build\\..\\..\\evil.html", "a//b.js", "./index.js", "evil\x01.js", "Build/" + "x" * 256,
])
def test_zip_slip_paths_are_refused(name):
    assert "unsafe path" in rejected(raw_zip([INDEX, Raw(name)]))


def test_symlinks_are_refused():
    link = Raw("Build/x.js", b"/etc/passwd", mode=0o120777)
    assert "symbolic link" in rejected(raw_zip([INDEX, link]))


def test_special_files_are_refused():
    assert "special file" in rejected(raw_zip([INDEX, Raw("fifo", b"", mode=0o010644)]))


@pytest.mark.parametrize("names, message", [
    (["index.html", "index.html"], "twice"),
    (["index.html", "Build/Game.js", "build/game.JS"], "twice"),
    (["index.html", "Build/caf\u00e9.png", "Build/cafe\u0301.png"], "twice"),  # NFC vs NFD
    (["index.html", "Build", "Build/x.js"], "both as a file and as a folder"),
])
def test_duplicate_names_are_refused(names, message):
    assert message in rejected(raw_zip([Raw(n, f"{n}{i}".encode()) for i, n in enumerate(names)]))


def test_entries_pointing_at_one_local_header_are_refused():
    """Fifield's full overlap: many central directory entries, one kernel of compressed data."""
    kernel = Raw("index.html", deflate(b"\0" * 500_000), method=8)
    entries = [kernel] + [Raw(f"copy{i}.bin", kernel.data, method=8, crc=_crc(kernel), usize=500_000, offset=0)
                          for i in range(5)]
    assert "overlap" in rejected(raw_zip(entries, local=[kernel]))


def test_entries_whose_data_covers_another_header_are_refused():
    """Fifield's quoted overlap: the first entry's data runs over the second entry's header."""
    first, second = Raw("index.html", b"<h1>hi</h1>"), Raw("Build/b.js", b"var b;")
    first.csize = len(first.data) + 30 + len(second.name) + len(second.data)
    assert "overlap" in rejected(raw_zip([first, second]))


def test_entry_count_is_capped_before_the_directory_is_parsed():
    entries = [INDEX] + [Raw(f"f{i}.js") for i in range(5)]
    assert "6 entries; the limit is 3" in rejected(raw_zip(entries), Limits(max_entries=3))


def test_an_understated_entry_count_is_still_caught():
    entries = [INDEX] + [Raw(f"f{i}.js") for i in range(5)]
    assert "6 entries; the limit is 3" in rejected(raw_zip(entries, count=1), Limits(max_entries=3))


def test_declared_uncompressed_size_is_capped():
    assert "larger than" in rejected(raw_zip([INDEX, Raw("big.data", b"x" * 5000)]), Limits(max_bytes=4096))


def test_one_highly_compressed_entry_is_refused():
    bomb = Raw("Build/x.data", deflate(b"\0" * 8 * 1024**2), method=8)
    assert "compressed more than 100:1" in rejected(raw_zip([INDEX, bomb]))


def test_many_small_compressible_entries_are_refused_overall():
    parts = [Raw(f"Build/part{i}.data", deflate(b"\0" * 512 * 1024), method=8) for i in range(8)]
    assert "compressed more than 100:1 overall" in rejected(raw_zip([INDEX, *parts]))


def test_ratio_cap_is_configurable():
    bomb = Raw("Build/x.data", deflate(b"\0" * 2 * 1024**2), method=8)
    zipcheck.inspect(io.BytesIO(raw_zip([INDEX, bomb])), Limits(max_ratio=10_000))


def test_encrypted_entries_are_refused():
    assert "password-protected" in rejected(raw_zip([INDEX, Raw("Build/x.js", b"????", flags=0x1)]))


def test_unsupported_compression_is_refused():
    assert "compression method" in rejected(raw_zip([INDEX, Raw("Build/x.js", b"????", method=9, crc=0, usize=4)]))


@pytest.mark.parametrize("data", [b"", b"Rar!\x1a\x07\x00" + b"x" * 100, b"PK\x03\x04 truncated"])
def test_not_a_zip(data):
    assert "not a zip file" in rejected(data)


def test_lying_sizes_never_write_past_the_declared_size(tmp_path):
    """Declared 1 KB, really 8 MB: zipfile stops at the declared size and the CRC gives it away."""
    real = b"\0" * 8 * 1024**2
    liar = Raw("Build/x.data", deflate(real), method=8, usize=1024, crc=zlib.crc32(real))
    data = raw_zip([INDEX, liar])
    inspection = zipcheck.inspect(io.BytesIO(data), LIMITS)  # declared sizes look harmless
    with pytest.raises(BuildRejected, match="damaged"):
        zipcheck.extract(io.BytesIO(data), inspection, tmp_path / "out", LIMITS)
    assert (tmp_path / "out" / "Build/x.data").stat().st_size <= 1024


def test_lying_sizes_that_pass_the_crc_still_stop_at_the_declared_size(tmp_path):
    real = b"\0" * 8 * 1024**2
    liar = Raw("Build/x.data", deflate(real), method=8, usize=1024, crc=zlib.crc32(real[:1024]))
    data = raw_zip([INDEX, liar])
    inspection = zipcheck.inspect(io.BytesIO(data), LIMITS)
    extracted = zipcheck.extract(io.BytesIO(data), inspection, tmp_path / "out", LIMITS)
    assert (tmp_path / "out" / "Build/x.data").stat().st_size == 1024
    assert extracted.total_bytes == 1024 + len(INDEX.data)


class Endless(io.RawIOBase):
    """A decompressor that ignores every header: zeros forever."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = b"\0" * len(buffer)
        return len(buffer)


def test_streaming_stops_at_the_build_cap_whatever_the_headers_say():
    out = io.BytesIO()
    budget = zipcheck._Budget(3 * zipcheck.CHUNK)
    with pytest.raises(BuildRejected, match="larger than"):
        zipcheck.copy_capped(Endless(), out, budget, declared=10**12, name="Build/x.data")
    assert out.tell() <= 3 * zipcheck.CHUNK


def test_streaming_stops_when_an_entry_passes_its_declared_size():
    out = io.BytesIO()
    with pytest.raises(BuildRejected, match="larger than the zip says"):
        zipcheck.copy_capped(Endless(), out, zipcheck._Budget(10**12), declared=1000, name="Build/x.data")
    assert out.tell() == 0


def test_a_damaged_entry_is_reported_by_name(tmp_path):
    broken = Raw("Build/x.js", b"\xff\xfe not deflate", method=8, usize=100, crc=0)
    data = raw_zip([INDEX, broken])
    inspection = zipcheck.inspect(io.BytesIO(data), LIMITS)
    with pytest.raises(BuildRejected, match="Build/x.js cannot be read"):
        zipcheck.extract(io.BytesIO(data), inspection, tmp_path / "out", LIMITS)


def test_zipfile_written_names_round_trip():
    """Sanity check of the raw writer against zipfile itself."""
    data = raw_zip([INDEX, Raw("Build/x.js", deflate(b"var x;" * 100), method=8)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("Build/x.js") == b"var x;" * 100
        assert archive.testzip() is None
