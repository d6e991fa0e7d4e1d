"""Journey 5: an instructor submits an offering's results, a registrar finalizes them and downloads
the student's PDF transcript, whose text shows the Japanese and the Uzbek figures."""
from __future__ import annotations

import re
import shutil
import subprocess

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, create_assignment

INSTRUCTOR = "sato@demo.jdu.uz"  # teaches ART120, Autumn 2026 = offering 2 in the demo
REGISTRAR = "registrar@demo.jdu.uz"
SCORES = {"aziz@demo.jdu.uz": "92.5", "malika@demo.jdu.uz": "75", "timur@demo.jdu.uz": "58"}


def test_registrar_finalizes_and_downloads_a_dual_degree_transcript(new_page, stack, tmp_path):
    assert shutil.which("pdftotext"), "pdftotext is needed (make test installs poppler-utils)"
    staff = new_page(INSTRUCTOR)
    assignment = create_assignment(staff, stack, 2, "Final pixel-art portfolio")
    for email, score in SCORES.items():
        student_id = stack.one("SELECT id FROM users WHERE email = ?", email)
        staff.goto(f"/grading/assignments/{assignment}/students/{student_id}")
        staff.get_by_label("Score", exact=False).first.fill(score)
        staff.get_by_role("button", name="Save grade").click()
        expect(staff.locator(".score-line .score")).to_have_text(re.compile(r"^\d"))
    staff.goto("/records/offerings/2/submit")
    assert_accessible(staff)
    staff.get_by_role("button", name="Submit results to the registrar").click()
    expect(staff.locator(".flash").first).to_be_visible()

    registrar = new_page(REGISTRAR)
    registrar.goto("/records/offerings/2")
    assert_accessible(registrar)
    registrar.get_by_role("button", name="Finalize submitted results").click()
    expect(registrar.locator("main")).to_contain_text("finalized")
    aziz = stack.one("SELECT id FROM users WHERE email = 'aziz@demo.jdu.uz'")
    registrar.goto(f"/records/students/{aziz}")
    assert_accessible(registrar)
    with registrar.expect_download() as download:
        registrar.get_by_role("link", name="PDF").click()
    pdf = tmp_path / "transcript.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "アジズ・カリモフ" in flat and "JDU26001" in flat
    assert "単位" in flat and "認定" in flat  # the Japanese side: credits, recognised credits
    # ART120 autumn: 2 JP credits, 92.5 -> S, 3 points on the partner's JASSO scale; Uzbek 3 credits, grade 5.
    assert re.search(r"Autumn 2026 2 92\.5 S 3 3 5 finalized", flat), text
    assert re.search(r"修得単位\)? 6 / 124", flat) and re.search(r"9 / 240", flat), text
    assert re.search(r"\(5\) / Средний балл 4\.5", flat) and re.search(r"\(100\) 90\.5", flat), text

    registrar.goto("/records/cohorts")
    assert_accessible(registrar)
