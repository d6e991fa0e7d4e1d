"""Submission files are parsed straight into a storage spool (see lms/storage/spool.py)."""
from __future__ import annotations

from flask import Request, current_app, has_app_context

from lms.storage import get_storage

SPOOLED_ENDPOINTS = frozenset({"assignments.submit"})


class SpoolingRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        if self.endpoint in SPOOLED_ENDPOINTS and has_app_context():
            return get_storage().spool(int(current_app.config["SUBMISSION_MAX_BYTES"]))
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)
