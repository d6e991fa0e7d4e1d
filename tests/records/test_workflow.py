"""Submit → finalize → amend, through the app; finalized results refuse every change."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.catalog.models import PartnerUniversity, Program
from lms.extensions import db
from lms.records import services
from lms.records.models import FinalResult, ResultAmendment, ResultState
from lms.records.record import student_record


class World:
    """A partner with the default scheme, a program with the default rule, an offering of one of
    the partner's courses with two students, its instructor and a registrar."""

    def __init__(self, make, students: int = 2):
        self.partner = PartnerUniversity(code="kgt", name_en="Kansai")
        db.session.add(self.partner)
        db.session.flush()
        self.program = Program(code="gd", name_en="Game Dev", partner_id=self.partner.id)
        db.session.add(self.program)
        db.session.flush()
        services.ensure_default_schemes()
        db.session.commit()
        self.students = [make.user(Role.STUDENT, program_id=self.program.id, cohort_year=2024)
                         for _ in range(students)]
        self.instructor, self.registrar = make.user(Role.INSTRUCTOR), make.user(Role.REGISTRAR)
        self.course = make.course(partner_id=self.partner.id, credits=Decimal(2))
        self.offering = make.offering(self.course, instructor=self.instructor, students=self.students)


def scores_are(monkeypatch, scores):
    monkeypatch.setattr("lms.records.views.course_scores", lambda offering: scores)


@pytest.fixture
def world(make):
    return World(make)


def results_of(world):
    return {r.student_id: r for r in db.session.scalars(
        select(FinalResult).where(FinalResult.offering_id == world.offering.id))}


def test_submit_finalize_amend(client, auth, world, monkeypatch):
    a, b = world.students
    scores_are(monkeypatch, {a.id: Decimal("91.5"), b.id: Decimal("59.994")})
    auth.login(world.instructor)
    assert client.get(f"/records/offerings/{world.offering.id}/submit").status_code == 200
    assert client.post(f"/records/offerings/{world.offering.id}/submit").status_code == 302
    results = results_of(world)
    assert {r.state for r in results.values()} == {ResultState.SUBMITTED}
    assert results[b.id].raw_score == Decimal("59.99") and results[a.id].submitted_by_id == world.instructor.id

    scores_are(monkeypatch, {a.id: Decimal("88"), b.id: Decimal("60")})  # re-submitting updates
    client.post(f"/records/offerings/{world.offering.id}/submit")
    assert results_of(world)[a.id].raw_score == Decimal("88.00")
    assert client.post(f"/records/offerings/{world.offering.id}/finalize").status_code == 403  # instructor

    auth.logout()
    auth.login(world.registrar)
    page = client.get(f"/records/offerings/{world.offering.id}")
    assert page.status_code == 200 and b"Finalize submitted results" in page.data
    client.post(f"/records/offerings/{world.offering.id}/finalize")
    results = results_of(world)
    scheme, rule = services.current_scheme(world.partner.id), services.current_rule(world.program.id)
    for r in results.values():
        assert (r.state, r.ja_scheme_id, r.credit_rule_id, r.finalized_by_id) == (
            ResultState.FINALIZED, scheme.id, rule.id, world.registrar.id)
        assert r.finalized_at is not None

    assert client.post(f"/records/results/{results[b.id].id}/amend", data={"new_raw": "75", "reason": ""}
                       ).status_code == 400
    assert client.post(f"/records/results/{results[b.id].id}/amend", data={"new_raw": "101", "reason": "x"}
                       ).status_code == 400
    response = client.post(f"/records/results/{results[b.id].id}/amend",
                           data={"new_raw": "75", "reason": "Exam re-marked"})
    assert response.status_code == 302
    amendment = db.session.scalar(select(ResultAmendment))
    assert (amendment.old_raw_score, amendment.new_raw_score, amendment.actor_id, amendment.reason) == (
        Decimal("60.00"), Decimal("75.00"), world.registrar.id, "Exam re-marked")
    assert results_of(world)[b.id].raw_score == Decimal("60.00")  # the original stays
    line = student_record(b.id).lines[0]
    assert (line.raw, line.letter, line.amended) == (Decimal("75.00"), "B", True)
    page = client.get(f"/records/students/{b.id}")
    assert b"Exam re-marked" in page.data and b"60.00" in page.data


def test_finalized_results_refuse_changes_through_the_app(client, auth, world, monkeypatch):
    a, b = world.students
    scores_are(monkeypatch, {a.id: Decimal(70), b.id: Decimal(80)})
    auth.login(world.instructor)
    client.post(f"/records/offerings/{world.offering.id}/submit")
    services.finalize_offering(world.offering, world.registrar.id)
    db.session.commit()
    scores_are(monkeypatch, {a.id: Decimal(99), b.id: Decimal(99)})
    response = client.post(f"/records/offerings/{world.offering.id}/submit")
    assert response.status_code == 400 and "already finalized" in response.get_data(as_text=True)
    assert {r.raw_score for r in results_of(world).values()} == {Decimal(70), Decimal(80)}
    with pytest.raises(services.DomainError, match="finalized"):
        services.put_result(world.offering, a.id, Decimal(1), world.registrar.id, "gradebook",
                            results_of(world)[a.id])
    with pytest.raises(services.DomainError, match="No submitted results"):
        services.finalize_offering(world.offering, world.registrar.id)
    db.session.rollback()


def test_missing_scores_block_unless_excluded(client, auth, world, monkeypatch):
    a, b = world.students
    scores_are(monkeypatch, {a.id: Decimal(70), b.id: None})
    auth.login(world.instructor)
    page = client.get(f"/records/offerings/{world.offering.id}/submit")
    assert b.student_number in page.get_data(as_text=True) and "missing" in page.get_data(as_text=True)
    response = client.post(f"/records/offerings/{world.offering.id}/submit")
    assert response.status_code == 400 and results_of(world) == {}
    client.post(f"/records/offerings/{world.offering.id}/submit", data={"exclude": [str(b.id)]})
    assert set(results_of(world)) == {a.id}


def test_finalize_needs_a_scheme_for_the_partner(app, make, world):
    other = PartnerUniversity(code="none", name_en="No scheme")
    db.session.add(other)
    db.session.commit()
    offering = make.offering(make.course(partner_id=other.id), students=[world.students[0]])
    services.submit_offering(offering, {world.students[0].id: Decimal(50)}, world.registrar.id)
    with pytest.raises(services.DomainError, match="no grade scheme"):
        services.finalize_offering(offering, world.registrar.id)
    db.session.rollback()


def test_only_finalized_results_are_amended(app, world):
    a, b = world.students
    services.submit_offering(world.offering, {a.id: Decimal(70), b.id: Decimal(80)}, world.registrar.id)
    result = results_of(world)[a.id]
    with pytest.raises(services.DomainError, match="Only finalized"):
        services.amend_result(result, Decimal(75), "why", world.registrar.id)
    db.session.rollback()
