"""Where files live: one interface (lms.storage.base.Storage), two backends chosen by LMS_STORAGE.

`local` (default) keeps files under MEDIA_ROOT; `s3` keeps them in LMS_S3_BUCKET under LMS_S3_PREFIX,
at LMS_S3_ENDPOINT_URL for S3-compatible services, with credentials from the usual AWS variables or
the machine's role.
"""
from __future__ import annotations

from flask import Flask, current_app

from lms.storage.base import NotStored, Part, Storage, StorageError, TooLarge
from lms.storage.local import LocalStorage

__all__ = ["LocalStorage", "NotStored", "Part", "Storage", "StorageError", "TooLarge", "get_storage",
           "make_storage"]


def make_storage(config) -> Storage:
    if config.get("STORAGE", "local") == "s3":
        from lms.storage.s3 import S3Storage

        return S3Storage(config["S3_BUCKET"], prefix=config.get("S3_PREFIX") or "",
                         region=config.get("S3_REGION"), endpoint_url=config.get("S3_ENDPOINT_URL"))
    link = None
    if config.get("MEDIA_SECURE_LINK_PREFIX"):
        from lms.storage.secure_link import SecureLink

        link = SecureLink(config["MEDIA_SECURE_LINK_PREFIX"], config["MEDIA_SECURE_LINK_SECRET"])
    return LocalStorage(config["MEDIA_ROOT"], secure_link=link)


def get_storage(app: Flask | None = None) -> Storage:
    app = app or current_app._get_current_object()
    storage = app.extensions.get("lms_storage")
    if storage is None:
        storage = app.extensions["lms_storage"] = make_storage(app.config)
    return storage
