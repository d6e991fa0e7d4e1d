"""Signed links to files on disk that nginx's secure_link module checks without asking the app.

With local storage behind nginx this is what presigned URLs are on S3: the app signs a path and an
expiry once per playlist, and nginx serves every segment from disk at static-file speed. The nginx
side (deploy/nginx.conf.example) must use the same prefix and secret:

    secure_link $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri <secret>";
"""
from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class SecureLink:
    prefix: str  # the nginx location, e.g. /protected-media
    secret: str

    def url(self, key: str, expires: int, *, now: float | None = None) -> str:
        until = int((now if now is not None else time.time()) + expires)
        uri = f"{self.prefix.rstrip('/')}/{quote(key, safe='/')}"
        # nginx hashes the decoded $uri; generated keys are plain ASCII, so quoting leaves them alone.
        digest = hashlib.md5(f"{until}{uri} {self.secret}".encode(), usedforsecurity=False).digest()
        token = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return f"{uri}?md5={token}&expires={until}"
