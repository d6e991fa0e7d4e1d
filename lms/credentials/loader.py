"""Offline JSON-LD document loader for pyld.

Canonicalization must never fetch a context over the network: a verifier that did would let
whoever answers that URL change what a signature means, and would hang or fail when offline.
Only the contexts vendored in ``contexts/`` (see its README for where each came from) resolve.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from pyld.jsonld import JsonLdError

_DIR = Path(__file__).parent / "contexts"

CONTEXTS: dict[str, Path] = {
    "https://www.w3.org/ns/credentials/v2": _DIR / "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": _DIR / "ob-v3p0-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": _DIR / "clr-v2p0-context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": _DIR / "ob-v3p0-extensions.json",
}

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


@lru_cache(maxsize=None)
def _parsed(url: str) -> dict:
    return json.loads(CONTEXTS[url].read_text(encoding="utf-8"))


def document_loader(url: str, options: dict | None = None) -> dict:
    """Return the pyld remote-document dict for a vendored context.

    Raises pyld's ``JsonLdError`` (type ``jsonld.LoadDocumentError``) for any other URL; there
    is deliberately no fallback to the network.
    """
    if url not in CONTEXTS:
        raise JsonLdError(
            f"JSON-LD context {url!r} is not vendored; refusing to fetch it",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading remote context failed",
        )
    # A copy, because pyld is free to mutate what it is handed and the cache is shared.
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_parsed(url))}
