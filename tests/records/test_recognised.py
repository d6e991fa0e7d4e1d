"""A registrar records credits recognised from elsewhere (認定), up to the 60-credit cap."""
from decimal import Decimal

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.extensions import db
from lms.records import services
from lms.records.record import student_record
from lms.catalog.models import Program
from lms.records.models import CreditRule, RecognisedCredit


def login(app, user):
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": "correct-horse-battery"})
    return client


def program_with_rule(recognised_factor="1.5"):
    program = Program(code=f"p{recognised_factor}", name_en="Game Development")
    db.session.add(program)
    db.session.flush()
    db.session.add(CreditRule(program_id=program.id, version=1, name="By workload", factor=Decimal("1.5"),
                              recognised_factor=None if recognised_factor is None else Decimal(recognised_factor)))
    db.session.commit()
    return program


def test_registrar_records_recognised_credits_within_the_cap(app, make):
    student, registrar = make.user(Role.STUDENT, program_id=program_with_rule().id), make.user(Role.REGISTRAR)
    client = login(app, registrar)
    url = f"/records/students/{student.id}/recognised"
    ok = client.post(url, data={"title": "JLPT N2", "institution": "Japan Foundation", "ja_credits": "58"},
                     follow_redirects=True)
    assert "Recognised credits recorded" in ok.get_data(as_text=True) and "JLPT N2" in ok.get_data(as_text=True)
    over = client.post(url, data={"title": "More", "institution": "Elsewhere", "ja_credits": "4"}, follow_redirects=True)
    assert "At most 60 recognised credits" in over.get_data(as_text=True)
    assert db.session.scalar(select(func.sum(RecognisedCredit.ja_credits))) == Decimal(58)


def test_students_and_instructors_cannot_record_them(app, make):
    student, instructor = make.user(Role.STUDENT), make.user(Role.INSTRUCTOR)
    for who in (student, instructor):
        response = login(app, who).post(f"/records/students/{student.id}/recognised",
                                        data={"title": "x", "institution": "y", "ja_credits": "2"})
        assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(RecognisedCredit)) == 0


def test_credit_figures_read_as_people_write_them(app, make):
    student = make.user(Role.STUDENT, program_id=program_with_rule().id)
    services.recognise_credits(student, "N3", "JF", Decimal("2.0"), make.user(Role.REGISTRAR))
    db.session.commit()
    page = login(app, student).get("/records/me").get_data(as_text=True)
    assert "240.00" not in page and "Credits left: 122" in page  # 124 − 2, not 122.0


def test_a_student_without_a_credit_rule_is_refused_with_a_reason(app, make):
    student, registrar = make.user(Role.STUDENT), make.user(Role.REGISTRAR)
    page = login(app, registrar).post(f"/records/students/{student.id}/recognised",
                                      data={"title": "N3", "institution": "JF", "ja_credits": "2"},
                                      follow_redirects=True).get_data(as_text=True)
    assert "has no program with a credit rule" in page
    assert db.session.scalar(select(func.count()).select_from(RecognisedCredit)) == 0


def test_each_line_shows_the_uzbek_credits_the_total_counts(app, make):
    """Lines and totals agree: two 認定 lines of 1.5 UZ each make 3, and a later rule version
    does not change what was approved under the earlier one."""
    program = program_with_rule()
    student, registrar = make.user(Role.STUDENT, program_id=program.id), make.user(Role.REGISTRAR)
    for title in ("JLPT N3", "Sketching"):
        services.recognise_credits(student, title, "Elsewhere", Decimal(1), registrar)
    db.session.commit()
    services.new_rule_version(program.id, name="By totals", factor=Decimal("1.94"), step=Decimal("0.5"),
                              mode="half_up", source="", actor_id=registrar.id, recognised_factor=None)
    db.session.commit()
    record = student_record(student.id)
    assert [x.uz_credits for x in record.lines] == [Decimal("1.5"), Decimal("1.5")]
    assert record.totals.uz_credits == 3 == sum(x.uz_credits for x in record.lines)
    page = login(app, student).get("/records/me").get_data(as_text=True)
    assert "1.5" in page and "Uzbek degree" in page


def test_a_rule_that_leaves_recognised_credits_out_shows_zero_on_the_line(app, make):
    student, registrar = make.user(Role.STUDENT, program_id=program_with_rule(None).id), make.user(Role.REGISTRAR)
    services.recognise_credits(student, "N3", "JF", Decimal(2), registrar)
    db.session.commit()
    record = student_record(student.id)
    assert record.lines[0].uz_credits == 0 == record.totals.uz_credits and record.totals.ja_credits == 2
