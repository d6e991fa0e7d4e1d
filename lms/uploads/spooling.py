"""Submission files are parsed straight into a storage spool (see lms/storage/spool.py).

The multipart parser reads the body in large steps: werkzeug asks for 64 KiB at a time, and
gunicorn answers each small read by copying what it has buffered beyond it (up to a 1 MiB recv)
into a new buffer, about 16 copies of every byte (bench/deadline_spike.py: ~30 ms of CPU per
20 MB upload). A 1 MiB BufferedReader in between asks gunicorn for what it holds in one call.
"""
from __future__ import annotations

import io

from flask import Request, current_app, has_app_context
from werkzeug.formparser import FormDataParser

from lms.storage import get_storage

SPOOLED_ENDPOINTS = frozenset({"assignments.submit"})
READ_SIZE = 1024 * 1024


class BufferedFormDataParser(FormDataParser):
    def _parse_multipart(self, stream, mimetype, content_length, options):
        buffered = io.BufferedReader(stream, READ_SIZE)
        try:
            _, form, files = super()._parse_multipart(buffered, mimetype, content_length, options)
        finally:
            buffered.detach()  # the request still owns (and later drains or closes) its stream
        return stream, form, files


class SpoolingRequest(Request):
    form_data_parser_class = BufferedFormDataParser

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        if self.endpoint in SPOOLED_ENDPOINTS and has_app_context():
            spool = get_storage().spool(int(current_app.config["SUBMISSION_MAX_BYTES"]))
            self.__dict__.setdefault("_spools", []).append(spool)
            return spool
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)

    def close(self) -> None:
        """Also the spools of a parse that failed half-way (a full disk, a cut-off body): werkzeug
        only closes the files it finished parsing, and a spool left open would stay on disk."""
        try:
            super().close()
        finally:
            for spool in self.__dict__.pop("_spools", []):
                spool.close()
