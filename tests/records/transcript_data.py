"""A student with a varied record (both schemes, an amendment, a failed course, recognised credits),
shared by the export tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lms.auth.models import Role
from lms.catalog.models import PartnerUniversity, Program
from lms.extensions import db
from lms.records import services
from lms.records.models import CreditRule, FinalResult, JapaneseGradeScheme, ResultAmendment

TITLES = [("Game Design", "ゲームデザイン基礎", Decimal(2), "91"),
          ("Pixel Art", "ピクセルアート", Decimal(4), "75.5"),
          ("Programming", "プログラミング入門", Decimal(2), "59.99")]
TERMS = [(date(2026, 4, 1), date(2026, 7, 31)), (date(2026, 9, 1), date(2027, 1, 31)),
         (date(2027, 4, 1), date(2027, 7, 31))]


@dataclass
class Cohort:
    program: Program
    student: object
    registrar: object
    codes: list[str]


def build(make, *, cohort_year: int = 2026, extra_students: int = 0) -> Cohort:
    partner = PartnerUniversity(code="kgt", name_en="Kansai", name_ja="関西大学")
    db.session.add(partner)
    db.session.flush()
    program = Program(code="GD", name_en="Game Development", name_ja="ゲーム開発", partner_id=partner.id)
    db.session.add(program)
    db.session.flush()
    scheme = JapaneseGradeScheme(partner_id=partner.id, version=1, name="Kansai GPA",
                                 bands=[["90", "S"], ["80", "A"], ["70", "B"], ["60", "C"], ["0", "F"]],
                                 points={"S": "4", "A": "3", "B": "2", "C": "1", "F": "0"},
                                 passing=["S", "A", "B", "C"])
    rule = CreditRule(program_id=program.id, version=1, name="By workload", factor=Decimal("1.5"),
                      source="JDU council 2026-04", recognised_factor=Decimal("1.5"))
    db.session.add_all([scheme, rule])
    db.session.commit()
    registrar = make.user(Role.REGISTRAR)
    student = make.user(Role.STUDENT, name_latin="Gʻulom Oʻrinov", name_kana="グロム・オリノフ",
                        program_id=program.id, cohort_year=cohort_year, student_number="JDU26001")
    others = [make.user(Role.STUDENT, program_id=program.id, cohort_year=cohort_year)
              for _ in range(extra_students)]
    codes = []
    for n, (title_en, title_ja, credits, raw) in enumerate(TITLES):
        course = make.course(title_en=title_en, title_ja=title_ja, credits=credits, partner_id=partner.id)
        offering = make.offering(course, students=[student, *others])
        offering.term.starts_on, offering.term.ends_on = TERMS[n]
        codes.append(course.code)
        db.session.commit()
        for who in [student, *others]:
            make.finalized(who, offering, raw, scheme=scheme, rule=rule)
    first = db.session.query(FinalResult).filter_by(student_id=student.id).order_by(FinalResult.id).first()
    db.session.add(ResultAmendment(result_id=first.id, actor_id=registrar.id, reason="re-marked",
                                   old_raw_score=Decimal("91"), new_raw_score=Decimal("88")))
    db.session.commit()
    services.recognise_credits(student, "JLPT N3", "Ташкентский университет", Decimal(2), registrar)
    db.session.commit()
    return Cohort(program, student, registrar, codes)
