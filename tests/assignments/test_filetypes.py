"""Extension and content must agree; executables never pass; text must be UTF-8."""
import pytest

from lms.assignments.filetypes import FileRejected, check
from tests.images import image_bytes, png_header

PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
ZIP = b"PK\x03\x04" + b"\x00" * 20


@pytest.mark.parametrize("name, head, media_type", [
    ("art.png", PNG, "image/png"), ("photo.JPG", JPEG, "image/jpeg"), ("scene.blend", b"BLENDER-v293", "application/octet-stream"),
    ("doc.pdf", b"%PDF-1.7\n", "application/pdf"), ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    ("notes.md", "# 企画書\n".encode(), "text/markdown"), ("page.html", b"<script>alert(1)</script>", "text/html"),
    ("sprite.aseprite", b"\x00\x00\x00\x00\xe0\xa5", "application/octet-stream"), ("mystery.xyz", b"\x01\x02", "application/octet-stream"),
])
def test_accepted(app, name, head, media_type):
    assert check(name, head, []) == media_type


@pytest.mark.parametrize("name, head, allowed, reason", [
    ("art.png", JPEG, [], "not a real .png"),
    ("art.png", ZIP, [], "not a real .png"),
    ("game.exe", b"MZ\x90\x00", [], "programs"),
    ("art.png", b"\x7fELF\x02\x01", [], "programs"),
    ("notes.txt", b"\xff\xfe\x00a\x00b", [], "UTF-8"),
    ("art.psd", b"8BPS", ["png", "jpg"], "not accepted"),
    ("noext", b"data", ["png"], "not accepted"),
    ("empty.png", b"", [], "empty"),
])
def test_refused(app, name, head, allowed, reason):
    with pytest.raises(FileRejected, match=reason):
        check(name, head, allowed)


@pytest.mark.parametrize("name, head", [
    ("flood.png", png_header(100_000, 100_000)),  # 10 gigapixels in 33 bytes
    ("wide.png", png_header(20_000, 10)),  # few pixels, but a side over 8,192
    ("big.png", png_header(8_000, 6_000)),  # 48 megapixels
])
def test_pixel_floods_are_refused_from_the_header(app, name, head):
    with pytest.raises(FileRejected, match="Scale it down"):
        check(name, head, [])


def test_an_image_at_the_limits_passes_and_an_unreadable_header_is_refused(app):
    assert check("poster.png", png_header(8_000, 5_000), []) == "image/png"
    with pytest.raises(FileRejected, match="size could not be read"):
        check("cut.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, [])
