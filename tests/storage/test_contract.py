"""One contract for both backends: what the app relies on behaves the same on disk and on S3 (moto
over real HTTP)."""
from __future__ import annotations

import hashlib
import io
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from lms.storage import LocalStorage, NotStored, Part, StorageError, TooLarge
from lms.storage.s3 import S3Storage

MIB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    server = request.getfixturevalue("moto_s3")
    return S3Storage(server.new_bucket(), prefix="lms", endpoint_url=server.endpoint)


def fetch(url: str, method: str = "GET", data: bytes | None = None):
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/octet-stream")  # urllib would say form data
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, dict(answer.headers), answer.read()


def test_put_and_read_back(storage):
    data = b"hello, bridge " * 1000
    size, sha = storage.put_stream("a/b/file.bin", io.BytesIO(data), max_bytes=len(data))
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    assert storage.exists("a/b/file.bin") and storage.size("a/b/file.bin") == len(data)
    with storage.open("a/b/file.bin") as stream:
        assert stream.read() == data
    assert storage.read_range("a/b/file.bin", 7, 7) == b"bridge "
    assert storage.read_range("a/b/file.bin", len(data) - 3, 100) == data[-3:]
    storage.delete("a/b/file.bin")
    assert not storage.exists("a/b/file.bin")


def test_large_stream_in_parts_keeps_every_byte(storage):
    data = bytes(range(256)) * (12 * MIB // 256) + b"tail"  # more than one S3 part
    size, sha = storage.put_stream("big/one", io.BytesIO(data), max_bytes=len(data))
    assert sha == hashlib.sha256(data).hexdigest() and storage.size("big/one") == size == len(data)
    with storage.local_file("big/one") as path:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


@pytest.mark.parametrize("length", [100, 12 * MIB])
def test_over_the_cap_leaves_nothing(storage, length):
    with pytest.raises(TooLarge):
        storage.put_stream("capped/file", io.BytesIO(b"x" * length), max_bytes=length - 1)
    assert not storage.exists("capped/file")
    if storage.kind == "s3":  # no half-finished multipart upload left to pay for
        assert not storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads")
    else:
        assert not any(p.is_file() for p in (storage.root / "capped").iterdir())


def test_missing_keys_and_bad_keys(storage):
    with pytest.raises(NotStored):
        storage.size("nothing/here")
    with pytest.raises(NotStored):
        storage.open("nothing/here")
    with pytest.raises(NotStored), storage.local_file("nothing/here"):
        pass
    for bad in ("../etc/passwd", "/abs", "a//b", "a/../b", ".hidden", ""):
        with pytest.raises(StorageError):
            storage.put_bytes(bad, b"x")


def test_prefixes_siblings_and_delete_prefix(storage):
    for key in ("v/1/r/a1/x.ts", "v/1/r/a1/sub/y.ts", "v/1/r/a2/x.ts", "v/1/r/a3/x.ts", "v/2/r/a1/x.ts"):
        storage.put_bytes(key, b"seg")
    assert storage.list_prefixes("v/1/r") == ["v/1/r/a1", "v/1/r/a2", "v/1/r/a3"]
    storage.delete_siblings("v/1/r", keep="v/1/r/a2")
    assert storage.list_prefixes("v/1/r") == ["v/1/r/a2"]
    storage.delete_prefix("v/1")
    assert not storage.exists("v/1/r/a2/x.ts") and storage.exists("v/2/r/a1/x.ts")


def test_output_dir_publishes_on_success_only(storage):
    with storage.output_dir("out/ok") as folder:
        (folder / "720p").mkdir()
        (folder / "720p" / "index.m3u8").write_text("#EXTM3U\n")
        (folder / "master.m3u8").write_text("#EXTM3U\n")
    assert storage.read_bytes("out/ok/720p/index.m3u8", max_bytes=100) == b"#EXTM3U\n"
    with pytest.raises(RuntimeError), storage.output_dir("out/failed") as folder:
        (folder / "master.m3u8").write_text("#EXTM3U\n")
        raise RuntimeError("ffmpeg died")
    if storage.kind == "s3":  # on disk the caller removes the attempt's folder
        assert not storage.exists("out/failed/master.m3u8")
    with pytest.raises(TooLarge):
        storage.read_bytes("out/ok/master.m3u8", max_bytes=3)


def test_upload_in_parts_can_resume_and_complete(storage):
    first, second = b"a" * (5 * MIB), b"b" * 1000
    upload = storage.start_multipart("uploads/u1", "video/mp4")
    done = put_part(storage, "uploads/u1", upload, 1, first)
    assert storage.list_parts("uploads/u1", upload) == [done]  # what a resumed browser is told
    again = put_part(storage, "uploads/u1", upload, 2, second)
    assert [p.number for p in storage.list_parts("uploads/u1", upload)] == [1, 2]
    with pytest.raises(StorageError):
        storage.complete_multipart("uploads/u1", upload, [done, Part(2, 1000, "0" * 32)])
    size, sha = storage.complete_multipart("uploads/u1", upload, [done, again])
    assert size == len(first) + len(second)
    assert sha in (None, hashlib.sha256(first + second).hexdigest())
    assert storage.read_range("uploads/u1", 5 * MIB - 1, 2) == b"ab"


def test_an_aborted_upload_is_gone(storage):
    upload = storage.start_multipart("uploads/mine", "application/zip")
    if storage.kind == "local":  # on S3 the app's upload rows bind ids to keys (moto doesn't check)
        with pytest.raises(NotStored):
            storage.list_parts("uploads/theirs", upload)
    storage.abort_multipart("uploads/mine", upload)
    with pytest.raises(NotStored):
        storage.list_parts("uploads/mine", upload)


def put_part(storage, key: str, upload: str, number: int, data: bytes) -> Part:
    """As the browser does: PUT to the presigned URL on S3, through the app's route on disk."""
    url = storage.part_url(key, upload, number, expires=60)
    if url is None:
        return storage.put_part(key, upload, number, io.BytesIO(data), max_bytes=len(data))
    status, headers, _ = fetch(url, "PUT", data)
    assert status == 200
    return Part(number, len(data), headers["ETag"].strip('"'))


def test_presigned_urls_name_the_file_and_expire(moto_s3):
    storage = S3Storage(moto_s3.new_bucket(), endpoint_url=moto_s3.endpoint)
    storage.put_bytes("files/report", b"%PDF-1.7 ...", content_type="application/pdf")
    url = storage.presigned_url("files/report", expires=60, filename="レポート 1.pdf", content_type="application/pdf")
    status, headers, body = fetch(url)
    assert status == 200 and body == b"%PDF-1.7 ..."
    assert "attachment" in headers["Content-Disposition"]
    assert "filename*=UTF-8''%E3%83%AC%E3%83%9D%E3%83%BC%E3%83%88%201.pdf" in headers["Content-Disposition"]
    # moto does not enforce expiry, so check what S3 enforces: the signed lifetime in the URL.
    query = parse_qs(urlsplit(storage.presigned_url("files/report", expires=90)).query)
    assert query["X-Amz-Expires"] == ["90"] and "X-Amz-Signature" in query


def test_local_storage_serves_through_the_app(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put_bytes("k/file", b"x")
    assert storage.presigned_url("k/file", expires=60) is None
    assert storage.part_url("k/file", storage.start_multipart("k/up", "x"), 1, expires=60) is None


def test_a_spool_is_adopted_with_the_size_and_hash_counted_on_arrival(storage):
    data = b"frame " * 50_000
    spool = storage.spool(limit=len(data))
    for start in range(0, len(data), 65536):  # as the multipart parser writes
        spool.write(data[start:start + 65536])
    size, sha = storage.adopt(spool, "submissions/abc", content_type="application/zip")
    spool.close()
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    with storage.open("submissions/abc") as stream:
        assert stream.read() == data
    assert not spool.path.exists()  # nothing left where the parser wrote
    abandoned = storage.spool(limit=10)
    abandoned.write(b"half")
    abandoned.close()
    assert not abandoned.path.exists()
