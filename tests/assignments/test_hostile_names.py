"""Hostile upload names are cleaned on arrival and always sent back through one header helper."""
from __future__ import annotations

from sqlalchemy import select

from lms.assignments.models import Submission
from lms.extensions import db
from lms.filenames import MAX_LENGTH, content_disposition, display_name
from tests.assignments.conftest import PNG, login, submit_files


def test_control_bidi_and_zero_width_characters_are_removed_and_scripts_kept():
    assert display_name("re\x00port\r\n.png") == "report .png"
    assert display_name("photo\u202egnp.exe") == "photognp.exe"  # the override that hides .exe
    assert display_name("a\u200bb\ufeffc.pdf") == "abc.pdf"
    assert display_name("C:\\Users\\aziz\\ゲーム企画書 Oʻyin.pdf") == "ゲーム企画書 Oʻyin.pdf"
    assert display_name("Курсовая работа.docx") == "Курсовая работа.docx"
    assert display_name("\x00\x01 ..", "feedback") == "feedback"


def test_long_names_are_capped_keeping_the_extension():
    name = display_name("字" * 300 + ".blend")
    assert len(name) == MAX_LENGTH and name.endswith("字.blend")


def test_the_header_is_one_line_of_ascii_with_the_exact_name_in_filename_star():
    header = content_disposition("ゲーム\x00企画\n書.pdf")
    assert header.isascii() and "\n" not in header and "\x00" not in header
    assert header.startswith('attachment; filename="') and "filename*=UTF-8''%E3%82%B2" in header
    assert content_disposition("a.png", inline=True).startswith("inline;")


def test_a_submission_named_with_nul_and_bidi_characters_downloads_cleanly(app, world):
    client = login(app, world.student)
    response = submit_files(client, world.assignment, [("城\x00\u202eart.png", PNG)])
    assert response.status_code == 303
    (stored,) = db.session.scalar(select(Submission)).files
    assert stored.filename == "城art.png"
    download = client.get(f"/submissions/{stored.submission_id}/files/{stored.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"] == content_disposition("城art.png", inline=True)
