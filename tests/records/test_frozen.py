"""A finalized result never changes by itself: later edits to its course, term, scheme or rule
leave it as it was finalized; only an amendment changes its score."""
from datetime import date
from decimal import Decimal

import pytest

from lms.auth.models import Role
from lms.catalog.models import PartnerUniversity
from lms.extensions import db
from lms.records import services
from lms.records.models import JapaneseGradeScheme
from lms.records.record import student_record
from lms.records.versions import current_scheme
from tests.records.test_workflow import World


@pytest.fixture
def finalized(make):
    world = World(make, students=1)
    world.offering.term.starts_on, world.offering.term.ends_on = date(2026, 9, 1), date(2027, 1, 31)
    db.session.commit()
    services.submit_offering(world.offering, {world.students[0].id: Decimal("88.5")}, world.instructor.id)
    services.finalize_offering(world.offering, world.registrar.id)
    db.session.commit()
    return world


def the_line(world):
    record = student_record(world.students[0].id)
    (line,) = record.lines
    return line, record.totals


def test_editing_the_course_term_and_rules_later_changes_nothing(finalized, make):
    before, totals_before = the_line(finalized)
    assert (before.ja_credits, before.uz_credits, before.letter, before.ja_semester) == (2, 3, "A", "後期")
    course, term = finalized.course, finalized.offering.term
    course.credits, course.title_en, course.code = Decimal(4), "Renamed", "NEW999"
    term.starts_on, term.ends_on, term.name = date(2027, 4, 1), date(2027, 7, 31), "Moved"
    db.session.commit()
    services.new_rule_version(finalized.program.id, name="By totals", factor=Decimal("1.94"), step=Decimal("0.5"),
                              mode="up", source="", actor_id=finalized.registrar.id)
    services.new_scheme_version(finalized.partner.id, services.parse_scheme(
        "Strict", "95 S\n85 A\n75 B\n65 C\n0 F", "S 4.3\nA 3\nB 2\nC 1\nF 0", "S A B C"), finalized.registrar.id)
    db.session.commit()
    after, totals_after = the_line(finalized)
    assert after == before and totals_after == totals_before
    assert (after.course_code, after.title_en, after.term_name) != ("NEW999", "Renamed", "Moved")


def test_an_amendment_is_derived_with_the_frozen_scheme(finalized):
    services.new_scheme_version(finalized.partner.id, services.parse_scheme(
        "Strict", "95 S\n85 A\n75 B\n65 C\n0 F", "S 4.3\nA 3\nB 2\nC 1\nF 0", "S A B C"), finalized.registrar.id)
    db.session.commit()
    (row,) = services.offering_results(finalized.offering.id).values()
    services.amend_result(row, Decimal("91"), "exam re-marked", finalized.registrar.id)
    db.session.commit()
    line, _totals = the_line(finalized)
    # S under the frozen standard bands (≥ 90, 4 points), not A under the newer strict ones (≥ 95)
    assert (line.raw, line.letter, line.gpa_points, line.amended) == (Decimal(91), "S", Decimal(4), True)
    assert line.amended_reason == "exam re-marked"


def test_a_scheme_version_in_use_cannot_be_edited(finalized):
    scheme = current_scheme(finalized.partner.id)
    scheme.points = {"S": "10", "A": "3", "B": "2", "C": "1", "F": "0"}
    with pytest.raises(Exception, match="never change"):
        db.session.commit()
    db.session.rollback()


def test_gpa_per_scale_on_the_record(make):
    """S from a JASSO 3-point partner and S from a 4-point one: two GPAs, not 3.50."""
    world = World(make, students=1)
    jasso = PartnerUniversity(code="jasso", name_en="JASSO partner")
    db.session.add(jasso)
    db.session.commit()
    services.ensure_default_schemes(jasso_partner_codes=("jasso",))
    db.session.commit()
    other = make.offering(make.course(partner_id=jasso.id, credits=Decimal(2)), students=world.students)
    for offering in (world.offering, other):
        services.submit_offering(offering, {world.students[0].id: Decimal(95)}, world.instructor.id)
        services.finalize_offering(offering, world.registrar.id)
    db.session.commit()
    totals = student_record(world.students[0].id).totals
    assert sorted((g.scale, g.gpa) for g in totals.ja_gpas) == [(3, Decimal("3.00")), (4, Decimal("4.00"))]


@pytest.mark.parametrize("given, stored", [("88.125", "88.13"), ("88.135", "88.14"), ("59.995", "60.00")])
def test_scores_are_stored_rounded_half_up(given, stored):
    assert services.valid_score(Decimal(given)) == Decimal(stored)


def test_the_registrar_may_set_the_semester_explicitly(finalized, make):
    term = make.term(starts_on=date(2027, 2, 1), ends_on=date(2027, 6, 30))
    from lms.records.terms import of_term

    assert (of_term(term).ja_year, of_term(term).ja_semester) == (2027, "前期")
    term.ja_year, term.ja_semester = 2026, "後期"
    assert (of_term(term).ja_year, of_term(term).ja_semester) == (2026, "後期")


def test_schemes_not_used_by_a_finalized_result_may_still_be_corrected(make):
    partner = PartnerUniversity(code="p", name_en="P")
    db.session.add(partner)
    db.session.commit()
    services.ensure_default_schemes()
    db.session.commit()
    scheme = db.session.query(JapaneseGradeScheme).filter_by(partner_id=partner.id).one()
    scheme.name = "Corrected"
    db.session.commit()
    assert current_scheme(partner.id).name == "Corrected"
