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
    by_code = {row["course_code"]: row for row in rows if row["row_type"] in ("result", "recognised")}
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
    assert row["title_en"] == "'" + title and row["row_type"] == "pending"


def test_plain_values_are_left_alone():
    assert exports.neutralise("Game Design") == "Game Design"
    assert exports.neutralise("1.5") == "1.5"
    assert exports.neutralise("-") == "'-"


def test_the_csv_carries_the_totals_and_they_add_up(app, make):
    cohort = transcript_data.build(make)
    rows = parse(exports.student_csv(cohort.student.id))
    lines = [r for r in rows if r["row_type"] in ("result", "recognised")]
    (total,) = [r for r in rows if r["row_type"] == "total"]
    assert (total["ja_credits"], total["ja_required"], total["uz_required"]) == ("8", "124", "240")
    earned = sum(Decimal(r["ja_credits"]) for r in lines if r["row_type"] == "recognised" or r["letter"] != "F")
    assert Decimal(total["ja_credits"]) == earned
    assert Decimal(total["uz_credits"]) == sum(Decimal(r["uz_credits"]) for r in lines)
    (gpa,) = [r for r in rows if r["row_type"] == "gpa"]
    assert (gpa["gpa_scale"], gpa["gpa_points"]) == ("4", exports.figure(
        exports.transcript(cohort.student.id).record.totals.ja_gpa))
    assert total["uz_grade"] and total["uz_score"]  # the Uzbek 5-point and 100-point averages


def test_a_student_without_results_still_has_a_row(app, make):
    student = make.user(Role.STUDENT, student_number="JDU26050")
    rows = parse(exports.student_csv(student.id))
    assert [(r["row_type"], r["student_number"], r["ja_credits"], r["uz_credits"]) for r in rows] == [
        ("total", "JDU26050", "0", "0")]


def test_pending_results_are_marked_and_never_counted(app, make):
    cohort = transcript_data.build(make)
    open_offering = make.offering(make.course(credits=Decimal(6)), students=[cohort.student])
    db.session.add(FinalResult(student_id=cohort.student.id, offering_id=open_offering.id, raw_score=Decimal(99),
                               state="submitted"))
    db.session.commit()
    rows = parse(exports.student_csv(cohort.student.id))
    (pending,) = [r for r in rows if r["row_type"] == "pending"]
    assert pending["state"] == "submitted"
    (total,) = [r for r in rows if r["row_type"] == "total"]
    assert total["ja_credits"] == "8"  # the 6 pending credits are not in it
