"""A student's record from stored results: versions used, amendments, recognised credits."""
from decimal import Decimal

from lms.auth.models import Role
from lms.catalog.models import PartnerUniversity, Program
from lms.extensions import db
from lms.records.models import (CreditRule, FinalResult, JapaneseGradeScheme, RecognisedCredit, ResultAmendment,
                                ResultState)
from lms.records.record import student_record
from lms.records.services import recognise_credits


def test_record_uses_each_results_scheme_version_and_amendments(app, make):
    partner = PartnerUniversity(code="kgt", name_en="Kansai")
    db.session.add(partner)
    db.session.flush()
    program = Program(code="gd", name_en="Game Dev", partner_id=partner.id)
    db.session.add(program)
    db.session.flush()
    v1 = JapaneseGradeScheme(partner_id=partner.id, version=1, name="Kansai GPA",
                             bands=[["90", "S"], ["80", "A"], ["70", "B"], ["60", "C"], ["0", "F"]],
                             points={"S": "4", "A": "3", "B": "2", "C": "1", "F": "0"}, passing=["S", "A", "B", "C"])
    v2 = JapaneseGradeScheme(partner_id=partner.id, version=2, name="Kansai GPA (JASSO)",
                             bands=v1.bands, points={"S": "3", "A": "3", "B": "2", "C": "1", "F": "0"},
                             passing=["S", "A", "B", "C"])
    rule = CreditRule(program_id=program.id, version=1, name="By workload", factor=Decimal("1.5"),
                      source="JDU council 2026-04", recognised_factor=Decimal("1.5"))
    db.session.add_all([v1, v2, rule])
    db.session.commit()
    student, registrar = make.user(Role.STUDENT, program_id=program.id), make.user(Role.REGISTRAR)
    old = make.offering(make.course(partner_id=partner.id, credits=Decimal(2)), students=[student])
    new = make.offering(make.course(partner_id=partner.id, credits=Decimal(4)), students=[student])
    finalized = make.finalized(student, old, "91", scheme=v1, rule=rule)
    open_result = FinalResult(student_id=student.id, offering_id=new.id, raw_score=Decimal("59.99"))
    db.session.add(open_result)
    db.session.flush()
    db.session.add(ResultAmendment(result_id=finalized.id, actor_id=registrar.id, reason="re-marked",
                                   old_raw_score=Decimal("91"), new_raw_score=Decimal("85")))
    db.session.commit()
    recognise_credits(student, "Japanese N3", "JLPT", Decimal(2), registrar)
    db.session.commit()

    record = student_record(student.id)
    by_code = {line.course_code: line for line in record.lines}
    first = by_code[old.course.code]
    assert (first.raw, first.letter, first.gpa_points, first.amended) == (Decimal(85), "A", Decimal(3), True)
    assert first.ja_scheme == "Kansai GPA v1" and "By workload v1 ×1.5, JDU council 2026-04" == first.credit_rule
    second = by_code[new.course.code]
    assert (second.letter, second.uz_grade, second.uz_credits) == ("F", 2, 0)
    assert second.ja_scheme == "Kansai GPA (JASSO) v2"  # not finalized: the current version
    assert not second.counted  # submitted, not finalized: shown, never in totals
    recognised = by_code["認定"]
    assert recognised.recognised and recognised.gpa_points is None and recognised.uz_credits == 3  # 2 × 1.5
    totals = record.totals
    assert totals.ja_credits == 4  # 2 earned + 2 recognised; the open 4 are pending
    assert totals.ja_gpa == Decimal("3.00")  # the finalized A only; recognised credits stay out
    assert totals.uz_credits == 6 == sum(x.uz_credits for x in record.counted_lines)  # 3 + the recognised 3
    assert first.ja_year == 2026 and first.uz_year == "2026/2027"
    assert record.ja_required == 124 and record.uz_required == 240
