"""Static text files (hls.js, the player's scripts, CSS) sent gzipped to browsers that accept it.

hls.min.js is 624 kB: on a 1 Mbit/s link that was ~6 s before a lesson's player even existed
(bench/playback.py); gzipped it is ~190 kB. Each file is compressed once per process and modified
time, not per request. Range requests and clients without gzip get the file as it is.
"""
from __future__ import annotations

import gzip
import os
import threading

from flask import Flask, Response, request
from werkzeug.security import safe_join

TYPES = {"application/javascript", "text/javascript", "text/css", "image/svg+xml", "application/json"}
MIN_BYTES = 1024
_cache: dict[str, tuple[float, bytes]] = {}
_lock = threading.Lock()


def _gzipped(path: str) -> bytes | None:
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    with _lock:
        hit = _cache.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    with open(path, "rb") as f:
        data = gzip.compress(f.read(), compresslevel=9, mtime=0)
    with _lock:
        _cache[path] = (mtime, data)
    return data


def register(app: Flask) -> None:
    @app.after_request
    def gzip_static(response: Response) -> Response:
        if (request.endpoint != "static" or response.status_code != 200 or response.mimetype not in TYPES
                or "gzip" not in request.headers.get("Accept-Encoding", "") or "Range" in request.headers
                or (response.content_length or 0) < MIN_BYTES):
            if request.endpoint == "static":
                response.vary.add("Accept-Encoding")
            return response
        path = safe_join(app.static_folder, request.view_args.get("filename", ""))
        data = _gzipped(path) if path else None
        if data is None:
            return response
        response.close()  # the file send_file opened
        response.direct_passthrough = False
        response.set_data(data)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        etag = response.get_etag()[0]
        if etag:  # weak, as for any re-encoding: If-None-Match still matches it, so a revisit gets 304
            response.set_etag(etag, weak=True)
        return response
