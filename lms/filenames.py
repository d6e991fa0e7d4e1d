"""File names people gave their uploads: cleaned once, on arrival, and sent back in one way.

A name is only ever shown and used as a download name (storage keys are generated), but it comes
from anyone: a NUL or a newline in it breaks the Content-Disposition header (gunicorn answers 500),
a right-to-left override makes "gpj.exe" look like "exe.jpg", zero-width characters make two names
look alike. Japanese, Uzbek (oʻ, gʻ) and Cyrillic names are kept as typed.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_LENGTH = 200  # characters; leaves room under the 255 of the columns and of most file systems


def display_name(name: str | None, fallback: str = "file") -> str:
    """The last path part, NFC, without control, format (bidi overrides, zero-width) or unassigned
    characters, trimmed of dots and spaces, at most MAX_LENGTH characters with its extension kept."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(" " if ch in "\t\r\n" else ch for ch in name if unicodedata.category(ch)[0] != "C"
                   or ch in "\t\r\n")
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_LENGTH - len(ext) - 1].rstrip(" .") + "." + ext) if dot and 0 < len(ext) <= 10 \
            else name[:MAX_LENGTH].rstrip(" .")
    return name or fallback


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback for old clients and the exact UTF-8 name in filename*."""
    filename = display_name(filename, "download")  # also for names stored before they were cleaned
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ ()-]", "_", fallback).strip() or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
