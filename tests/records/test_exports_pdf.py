"""The PDF transcript renders every script, and the three formats of one student agree."""
import csv
import io
import re
import shutil
import subprocess

import pytest

from lms.records import exports
from lms.records.clr import clr_document
from lms.records.exports_pdf import render_pdf
from tests.records import transcript_data
from tests.records.test_exports_clr import results_by_kind

ROW = re.compile(r"^\s*(?P<code>\S+)\s.*?\s(?P<ja_credits>\d+(?:\.\d+)?)\s+(?P<raw>\d+(?:\.\d+)?)\s+"
                 r"(?P<letter>[SABCF])\s+(?P<gpa>\d+(?:\.\d+)?)\s+(?P<uz_credits>\d+(?:\.\d+)?)\s+"
                 r"(?P<uz_grade>[2-5])\s+(?P<state>finalized|submitted|in_progress)")


def pdf_text(data: bytes, tmp_path) -> str:
    assert data.startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:  # fail, never skip: CI must notice a missing install step
        pytest.fail("pdftotext is missing: `make setup-test` installs poppler-utils")
    path = tmp_path / "transcript.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def test_pdf_renders_japanese_uzbek_and_cyrillic(app, make, tmp_path):
    cohort = transcript_data.build(make)
    text = pdf_text(render_pdf(exports.transcript(cohort.student.id)), tmp_path)
    assert "ゲームデザイン基礎" in text and "プログラミング入門" in text
    assert "グロム・オリノフ" in text
    assert "Oʻrinov" in text and "Toʻplangan" in text
    assert "Ташкентский" in text and "Кредиты" in text
    record = exports.transcript(cohort.student.id).record
    assert re.search(rf"GPA \(4-point scale / 4点満点\)\s+{exports.figure(record.totals.ja_gpa)}\b", text)
    assert exports.figure(record.totals.uz_average) in text
    assert "Kansai GPA v1" in text and "By workload v1" in text
    assert "2026年度 前期" in text and "2025/2026 2-semestr" in text


def test_csv_clr_and_pdf_agree_per_course(app, make, tmp_path):
    cohort = transcript_data.build(make)
    item = exports.transcript(cohort.student.id)
    out = io.StringIO()
    exports.write_csv(out, [item])
    csv_rows = {r["course_code"]: r for r in csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")))}
    clr = {c["credentialSubject"]["achievement"].get("humanCode"): c
           for c in clr_document(item)["credentialSubject"]["verifiableCredential"]}
    pdf_rows = {m["code"]: m.groupdict() for m in map(ROW.match, pdf_text(render_pdf(item), tmp_path).splitlines())
                if m}
    assert set(pdf_rows) == set(cohort.codes)
    for code in cohort.codes:
        row, credential, printed = csv_rows[code], clr[code], pdf_rows[code]
        results = results_by_kind(credential)
        achievement = credential["credentialSubject"]["achievement"]
        assert exports.figure(achievement["creditsAvailable"]) == row["ja_credits"] == printed["ja_credits"]
        assert results["ja-letter"] == row["letter"] == printed["letter"]
        assert results["ja-gpa-points"] == row["gpa_points"] == printed["gpa"]
        assert results["uz-grade"] == row["uz_grade"] == printed["uz_grade"]
        assert results["uz-score"] == row["uz_score"] == row["raw_score"] == printed["raw"]
        assert results["uz-credits"] == row["uz_credits"] == printed["uz_credits"]
        assert row["state"] == printed["state"]


def test_the_pdf_prints_a_verification_link_and_lists_pending_results_apart(app, make, client, auth, tmp_path):
    from decimal import Decimal

    from lms.credentials import services as credentials
    from lms.credentials.models import CLR, IssuedCredential
    from lms.extensions import db
    from lms.records.models import FinalResult

    cohort = transcript_data.build(make)
    open_course = make.course(title_en="Still being graded")
    db.session.add(FinalResult(student_id=cohort.student.id, offering_id=make.offering(open_course).id,
                               raw_score=Decimal(99), state="submitted"))
    db.session.commit()
    auth.login(cohort.student)
    response = client.get(f"/records/students/{cohort.student.id}/transcript.pdf")
    text = pdf_text(response.data, tmp_path)
    (row,) = db.session.query(IssuedCredential).filter_by(kind=CLR).all()
    assert f"/verify/{row.id}" in text.replace("\n", "")
    assert credentials.verify(row.token).status == "valid"
    assert "Awaiting finalization" in text and "Still being graded" in text
    pending_part = text.split("Awaiting finalization")[1]
    assert open_course.code in pending_part and open_course.code not in text.split("Awaiting finalization")[0]
    assert client.get(f"/verify/{row.id}").status_code == 200
