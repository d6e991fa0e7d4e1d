"""Does a file's content agree with its extension? Checked on the first bytes, before storing.

Known binary formats must carry their signature; text formats must be UTF-8 without NUL bytes;
executables are refused whatever their name. Formats we cannot recognise are accepted only when the
instructor allowed their extension, and are always downloaded, never shown inline.
"""
from __future__ import annotations

import io
import struct
import warnings

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

HEAD_BYTES = 4096
# An image's size sits in its header; a JPEG's can come after up to ~64 KB of EXIF and ICC data.
IMAGE_HEAD_BYTES = 256 * 1024

# extension -> (media type, test on the head)
def _at(offset: int, *signatures: bytes):
    return lambda head: any(head[offset:offset + len(s)] == s for s in signatures)


def _text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multibyte character cut by the head's end
    return True


_ZIP = _at(0, b"PK\x03\x04", b"PK\x05\x06")
KNOWN = {
    "png": ("image/png", _at(0, b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", _at(0, b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", _at(0, b"\xff\xd8\xff")),
    "gif": ("image/gif", _at(0, b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    "pdf": ("application/pdf", _at(0, b"%PDF-")),
    "psd": ("image/vnd.adobe.photoshop", _at(0, b"8BPS")),
    "ase": ("application/octet-stream", _at(4, b"\xe0\xa5")),
    "aseprite": ("application/octet-stream", _at(4, b"\xe0\xa5")),
    "kra": ("application/zip", _ZIP),
    "ora": ("application/zip", _ZIP),
    "zip": ("application/zip", _ZIP),
    "blend": ("application/octet-stream", _at(0, b"BLENDER")),
    "fbx": ("application/octet-stream", lambda h: h.startswith(b"Kaydara FBX Binary") or _text(h)),
    "glb": ("model/gltf-binary", _at(0, b"glTF")),
    "mp4": ("video/mp4", _at(4, b"ftyp")),
    "mov": ("video/quicktime", _at(4, b"ftyp", b"moov", b"wide", b"mdat")),
    "webm": ("video/webm", _at(0, b"\x1a\x45\xdf\xa3")),
    "mkv": ("video/x-matroska", _at(0, b"\x1a\x45\xdf\xa3")),
    "mp3": ("audio/mpeg", lambda h: h[:3] == b"ID3" or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0)),
    "wav": ("audio/wav", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WAVE"),
    "ogg": ("audio/ogg", _at(0, b"OggS")),
}
TEXT = {"txt": "text/plain", "md": "text/markdown", "csv": "text/csv", "json": "application/json",
        "obj": "text/plain", "gltf": "model/gltf+json", "py": "text/x-python", "cs": "text/plain",
        "gd": "text/plain", "lua": "text/plain", "js": "text/javascript", "ts": "text/plain",
        "html": "text/html", "css": "text/css", "svg": "image/svg+xml", "yaml": "text/plain",
        "yml": "text/plain", "tscn": "text/plain", "tres": "text/plain", "shader": "text/plain"}
EXECUTABLE = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")
# Shown in the browser; everything else (HTML and SVG above all) is downloaded as an attachment.
INLINE_SAFE = {"image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "video/webm",
               "audio/mpeg", "audio/ogg", "audio/wav", "application/pdf"}


class FileRejected(ValueError):
    pass


class Prefixed:
    """A stream whose first bytes were already read for the content check."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            chunk, self.head = self.head, b""
            return chunk
        return self.rest.read(size)


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def head_bytes(filename: str) -> int:
    """How much of the file `check` needs to see."""
    media_type = KNOWN.get(extension_of(filename), ("",))[0]
    return IMAGE_HEAD_BYTES if media_type in PIXEL_CHECKED else HEAD_BYTES


PIXEL_CHECKED = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def check_pixels(filename: str, head: bytes) -> None:
    """Refuse a pixel flood (a small file that decodes to gigabytes) from its header alone, before
    anything is stored or any thumbnailer or browser decodes it."""
    max_pixels, max_side = current_app.config["IMAGE_MAX_PIXELS"], current_app.config["IMAGE_MAX_SIDE"]
    try:
        width, height = _image_size(head)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise FileRejected(_("%(name)s: the image's size could not be read from its header; export it "
                             "again (without large embedded metadata)", name=filename)) from None
    if width > max_side or height > max_side or width * height > max_pixels:
        raise FileRejected(_("%(name)s: the image is %(w)d × %(h)d pixels; images may have at most %(side)d "
                             "pixels a side and %(mp)d megapixels. Scale it down and upload it again.",
                             name=filename, w=width, h=height, side=max_side, mp=max_pixels // 1_000_000))


def _image_size(head: bytes) -> tuple[int, int]:
    if head[12:16] == b"IHDR":  # PNG: its first chunk, whatever metadata follows
        return struct.unpack(">II", head[16:24])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # judged by our own limits
            return Image.open(io.BytesIO(head)).size  # reads the header only, never decodes
    except Image.DecompressionBombError:
        return 1 << 20, 1 << 20


def check(filename: str, head: bytes, allowed: list[str]) -> str:
    """Return the media type to store, or raise FileRejected with a reason the student can act on."""
    ext = extension_of(filename)
    if allowed and ext not in allowed:
        raise FileRejected(_("%(name)s: .%(ext)s files are not accepted here; allowed: %(allowed)s", name=filename,
                             ext=ext or _("(none)"), allowed=", ".join(f".{a}" for a in allowed)))
    if not head:
        raise FileRejected(_("%(name)s: the file is empty", name=filename))
    if head.startswith(EXECUTABLE):
        raise FileRejected(_("%(name)s: programs and scripts cannot be submitted as files", name=filename))
    if ext in KNOWN:
        media_type, test = KNOWN[ext]
        if not test(head):
            raise FileRejected(_("%(name)s: the content is not a real .%(ext)s file; export it again",
                                 name=filename, ext=ext))
        if media_type in PIXEL_CHECKED:
            check_pixels(filename, head)
        return media_type
    if ext in TEXT:
        if not _text(head):
            raise FileRejected(_("%(name)s: a .%(ext)s file must be UTF-8 text", name=filename, ext=ext))
        return TEXT[ext]
    return "application/octet-stream"
