"""Extension and content must agree; executables never pass; text must be UTF-8."""
import pytest

from lms.assignments.filetypes import FileRejected, check

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
ZIP = b"PK\x03\x04" + b"\x00" * 20


@pytest.mark.parametrize("name, head, media_type", [
    ("art.png", PNG, "image/png"), ("photo.JPG", JPEG, "image/jpeg"), ("scene.blend", b"BLENDER-v293", "application/octet-stream"),
    ("doc.pdf", b"%PDF-1.7\n", "application/pdf"), ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    ("notes.md", "# 企画書\n".encode(), "text/markdown"), ("page.html", b"<script>alert(1)</script>", "text/html"),
    ("sprite.aseprite", b"\x00\x00\x00\x00\xe0\xa5", "application/octet-stream"), ("mystery.xyz", b"\x01\x02", "application/octet-stream"),
])
def test_accepted(name, head, media_type):
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
def test_refused(name, head, allowed, reason):
    with pytest.raises(FileRejected, match=reason):
        check(name, head, allowed)
