"""Scheme and rule versions: created, validated, never edited; finalized results keep theirs."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.extensions import db
from lms.records import services
from lms.records.models import CreditRule, JapaneseGradeScheme
from lms.records.record import student_record
from tests.records.test_workflow import World

JASSO = {"name": "JASSO 3-point", "bands": "90 S\n80 A\n70 B\n60 C\n0 F", "points": "S 3\nA 3\nB 2\nC 1\nF 0",
         "passing": "S A B C"}


def test_defaults_are_made_once(app, make):
    world = World(make)
    assert services.ensure_default_schemes() == 0
    scheme = services.current_scheme(world.partner.id)
    rule = services.current_rule(world.program.id)
    assert (scheme.version, scheme.name, scheme.points["S"]) == (1, "Standard 4-point", "4")
    assert (rule.version, rule.factor, rule.name) == (1, Decimal("1.5"), "By workload (45 h / 30 h)")
    assert rule.source


@pytest.mark.parametrize("field, value, message", [
    ("bands", "80 S\n90 A\n0 F", "highest score down"),
    ("bands", "90 S\n60 C", "start at 0"),
    ("points", "S 4\nA 3", "missing for"),
    ("passing", "S X", "Passing letters"),
    ("bands", "ninety S\n0 F", "not a number"),
])
def test_scheme_validation(app, field, value, message):
    data = dict(JASSO, **{field: value})
    with pytest.raises(services.DomainError, match=message):
        services.parse_scheme(data["name"], data["bands"], data["points"], data["passing"])


def test_new_version_changes_open_results_not_finalized_ones(client, auth, make):
    world = World(make)
    a, b = world.students
    services.submit_offering(world.offering, {a.id: Decimal(85), b.id: Decimal(85)}, world.registrar.id)
    services.finalize_offering(world.offering, world.registrar.id)
    open_offering = make.offering(make.course(partner_id=world.partner.id, credits=Decimal(2)), students=[a])
    services.submit_offering(open_offering, {a.id: Decimal(85)}, world.registrar.id)
    db.session.commit()
    before = {x.course_code: x for x in student_record(a.id).lines}
    assert {x.gpa_points for x in before.values()} == {Decimal(3)}

    auth.login(world.registrar)
    assert client.get(f"/records/schemes/partners/{world.partner.id}/new").status_code == 200
    bad = client.post(f"/records/schemes/partners/{world.partner.id}/new", data=dict(JASSO, points="S 3"))
    assert bad.status_code == 400 and "missing for" in bad.get_data(as_text=True)
    assert client.post(f"/records/schemes/partners/{world.partner.id}/new", data=dict(
        JASSO, points="S 4.5\nA 3.5\nB 2\nC 1\nF 0")).status_code == 302
    assert client.post(f"/records/schemes/programs/{world.program.id}/new", data={
        "name": "By degree totals", "factor": "1.935484", "step": "1", "mode": "up",
        "source": "Council decision 2027-01"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(JapaneseGradeScheme)) == 2
    assert db.session.scalar(select(func.max(CreditRule.version))) == 2

    after = {x.course_code: x for x in student_record(a.id).lines}
    finalized, still_open = after[world.course.code], after[open_offering.course.code]
    assert (finalized.gpa_points, finalized.uz_credits, finalized.ja_scheme) == (
        Decimal(3), Decimal(3), "Standard 4-point v1")
    assert (still_open.gpa_points, still_open.uz_credits, still_open.ja_scheme) == (
        Decimal("3.5"), Decimal(4), "JASSO 3-point v2")
    page = client.get("/records/schemes").get_data(as_text=True)
    assert "v2" in page and "Council decision 2027-01" in page


def test_only_registrars_manage_schemes(client, auth, make):
    world = World(make)
    for user in (world.students[0], world.instructor):
        auth.login(user)
        assert client.get("/records/schemes").status_code == 403
        assert client.post(f"/records/schemes/partners/{world.partner.id}/new", data=JASSO).status_code == 403
        auth.logout()
    assert db.session.scalar(select(func.count()).select_from(JapaneseGradeScheme)) == 1
    admin = make.user(Role.ADMIN)
    auth.login(admin)
    assert client.get("/records/schemes").status_code == 200
