"""Storage in an S3 bucket (AWS or any S3-compatible service), for deployments on many machines.

The browser fetches media and sends large uploads straight to the bucket through presigned URLs, so
the web processes never carry media bytes.
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lms.filenames import content_disposition
from lms.storage.base import (Hashing, NotStored, Part, Storage, StorageError, check_key, guess_type,
                              read_full)

MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


class S3Storage(Storage):
    kind = "s3"
    signs_urls = True

    def __init__(self, bucket: str, *, prefix: str = "", region: str | None = None,
                 endpoint_url: str | None = None, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.client = client or boto3.client(
            "s3", region_name=region or "us-east-1", endpoint_url=endpoint_url,
            config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"},
                          s3={"addressing_style": "path" if endpoint_url else "auto"}))

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _missing(self, error: ClientError) -> bool:
        return str(error.response.get("Error", {}).get("Code")) in MISSING

    def put_stream(self, key: str, stream: BinaryIO, *, max_bytes: int,
                   content_type: str | None = None) -> tuple[int, str]:
        """Small files in one PUT, larger ones in parts, so memory stays at one part whatever the size."""
        full, counter = self._key(key), Hashing(max_bytes)
        kind = content_type or guess_type(key)
        first = counter.feed(read_full(stream, self.part_size))
        following = read_full(stream, self.part_size)
        if not following:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=first, ContentType=kind)
            return counter.size, counter.sha256
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=full, ContentType=kind)["UploadId"]
        try:
            parts, chunk, number = [], first, 1
            while chunk:
                answer = self.client.upload_part(Bucket=self.bucket, Key=full, UploadId=upload_id,
                                                 PartNumber=number, Body=chunk)
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                number += 1
                chunk = counter.feed(following) if following else b""
                following = read_full(stream, self.part_size) if chunk else b""
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
            raise
        return counter.size, counter.sha256

    def _get(self, key: str, **extra):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key), **extra)
        except ClientError as exc:
            if self._missing(exc):
                raise NotStored(f"{key} is missing from storage") from None
            raise StorageError(str(exc)) from exc

    def open(self, key: str) -> BinaryIO:
        return self._get(key)["Body"]

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            return self._get(key, Range=f"bytes={start}-{start + length - 1}")["Body"].read()
        except ClientError as exc:  # a range past the end
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
        except ClientError as exc:
            if self._missing(exc):
                raise NotStored(f"{key} is missing from storage") from None
            raise StorageError(str(exc)) from exc

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotStored:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        folder = self._key(prefix.rstrip("/")) + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:  # one request per 1,000 objects
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def list_prefixes(self, prefix: str) -> list[str]:
        folder = self._key(prefix.rstrip("/")) + "/"
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=folder, Delimiter="/")
        for page in pages:
            found += [p["Prefix"][len(self.prefix):].rstrip("/") for p in page.get("CommonPrefixes", [])]
        return sorted(found)

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="lms-s3-") as scratch:
            path = Path(scratch) / Path(key).name
            body = self.open(key)
            with path.open("wb") as out:
                shutil.copyfileobj(body, out, 1024 * 1024)
            yield path

    @contextmanager
    def output_dir(self, prefix: str) -> Iterator[Path]:
        base = prefix.rstrip("/")
        with tempfile.TemporaryDirectory(prefix="lms-s3-out-") as scratch:
            folder = Path(scratch)
            yield folder
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                relative = path.relative_to(folder).as_posix()
                self.client.upload_file(str(path), self.bucket, self._key(f"{base}/{relative}"),
                                        ExtraArgs={"ContentType": guess_type(relative)})

    def presigned_url(self, key: str, *, expires: int, filename: str | None = None,
                      content_type: str | None = None, inline: bool = False) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename, inline=inline)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires))

    # -- uploads in parts, straight from the browser ----------------------------------------------
    def start_multipart(self, key: str, content_type: str) -> str:
        answer = self.client.create_multipart_upload(Bucket=self.bucket, Key=self._key(key),
                                                     ContentType=content_type)
        return answer["UploadId"]

    def part_url(self, key: str, upload_id: str, number: int, *, expires: int) -> str | None:
        return self.client.generate_presigned_url(
            "upload_part", ExpiresIn=int(expires),
            Params={"Bucket": self.bucket, "Key": self._key(key), "UploadId": upload_id, "PartNumber": number})

    def put_part(self, key: str, upload_id: str, number: int, stream: BinaryIO, *, max_bytes: int) -> Part:
        data = Hashing(max_bytes).feed(read_full(stream, max_bytes + 1))
        answer = self.client.upload_part(Bucket=self.bucket, Key=self._key(key), UploadId=upload_id,
                                         PartNumber=number, Body=data)
        return Part(number, len(data), answer["ETag"].strip('"'))

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        parts = []
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id)
            for page in pages:
                parts += [Part(p["PartNumber"], p["Size"], p["ETag"].strip('"')) for p in page.get("Parts", [])]
        except ClientError as exc:
            if self._missing(exc):
                raise NotStored("no such upload") from None
            raise StorageError(str(exc)) from exc
        return parts

    def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> tuple[int, None]:
        ordered = [{"PartNumber": p.number, "ETag": f'"{p.etag}"'} for p in sorted(parts, key=lambda p: p.number)]
        try:
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=self._key(key), UploadId=upload_id,
                                                  MultipartUpload={"Parts": ordered})
        except ClientError as exc:
            if self._missing(exc):
                raise NotStored("no such upload") from None
            raise StorageError(f"the parts could not be joined: {exc}") from exc
        return self.size(key), None

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(key), UploadId=upload_id)
        except ClientError as exc:
            if not self._missing(exc):
                raise

    def apply_cors(self, origins: list[str]) -> None:
        """Let the app's pages PUT parts (and read the ETag) and fetch HLS segments from the bucket."""
        self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": origins, "AllowedMethods": ["GET", "HEAD", "PUT"],
            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600}]})
