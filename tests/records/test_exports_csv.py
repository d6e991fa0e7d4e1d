"""The CSV transcript: one row per course result, both systems' columns, formula cells neutralised."""
import csv
import io
from decimal import Decimal

import pytest

from lms.auth.models import Role
from lms.extensions import db
from lms.records import exports
from lms.records.models import FinalResult
from tests.records import transcript_data


def parse(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM, so spreadsheets read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_one_row_per_result_with_both_systems(app, make):
    cohort = transcript_data.build(make)
    rows = parse(exports.student_csv(cohort.student.id))
    assert list(rows[0]) == exports.CSV_HEADER
    by_code = {row["course_code"]: row for row in rows}
    assert set(by_code) == {*cohort.codes, "認定"}
    first = by_code[cohort.codes[0]]
    assert first["name_latin"] == "Gʻulom Oʻrinov" and first["name_kana"] == "グロム・オリノフ"
    assert first["title_ja"] == "ゲームデザイン基礎"
    assert (first["raw_score"], first["letter"], first["gpa_points"], first["ja_credits"]) == ("88", "A", "3", "2")
    assert (first["uz_grade"], first["uz_score"], first["uz_credits"]) == ("4", "88", "3")
    assert first["amended"] == "yes" and first["state"] == "finalized"
    assert first["ja_scheme"] == "Kansai GPA v1" and first["credit_rule"].startswith("By workload v1 ×1.5")
    assert (first["ja_year"], first["ja_semester"], first["uz_year"], first["uz_semester"]) == (
        "2026", "前期", "2025/2026", "2")
    failed = by_code[cohort.codes[2]]
    assert (failed["letter"], failed["uz_grade"], failed["uz_credits"]) == ("F", "2", "0")
    assert by_code["認定"]["recognised"] == "yes" and by_code["認定"]["gpa_points"] == ""


@pytest.mark.parametrize("title", ["=HYPERLINK(\"http://evil\")", "+1+2", "-3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_cells_are_neutralised(app, make, title):
    student = make.user(Role.STUDENT)
    offering = make.offering(make.course(title_en=title), students=[student])
    db.session.add(FinalResult(student_id=student.id, offering_id=offering.id, raw_score=Decimal(70)))
    db.session.commit()
    row = parse(exports.student_csv(student.id))[0]
    assert row["title_en"] == "'" + title


def test_plain_values_are_left_alone():
    assert exports.neutralise("Game Design") == "Game Design"
    assert exports.neutralise("1.5") == "1.5"
    assert exports.neutralise("-") == "'-"
