"""Finalized results cannot change, even by SQL that goes around the app."""
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from lms.auth.models import Role
from lms.extensions import db
from lms.records.models import FinalResult, ResultAmendment, ResultState


@pytest.fixture
def finalized(make):
    student, registrar = make.user(Role.STUDENT), make.user(Role.REGISTRAR)
    offering = make.offering(students=[student])
    result = FinalResult(student_id=student.id, offering_id=offering.id, raw_score=Decimal("71.50"),
                         state=ResultState.FINALIZED)
    db.session.add(result)
    db.session.flush()
    db.session.add(ResultAmendment(result_id=result.id, actor_id=registrar.id, reason="exam re-marked",
                                   old_raw_score=Decimal("71.50"), new_raw_score=Decimal("74.00")))
    db.session.commit()
    return result


@pytest.mark.parametrize("sql", [
    "UPDATE final_results SET raw_score = 99",
    "UPDATE final_results SET state = 'submitted'",
    "DELETE FROM final_results",
    "UPDATE result_amendments SET new_raw_score = 100",
    "DELETE FROM result_amendments",
])
def test_raw_sql_cannot_touch_finalized_records(app, finalized, sql):
    with pytest.raises(DatabaseError, match="never"):
        with db.engine.begin() as conn:
            conn.execute(text(sql))
    db.session.expire_all()
    assert finalized.raw_score == Decimal("71.50") and finalized.state == "finalized"
    assert len(finalized.amendments) == 1


def test_results_not_yet_finalized_can_change(app, make):
    student = make.user(Role.STUDENT)
    offering = make.offering(students=[student])
    result = FinalResult(student_id=student.id, offering_id=offering.id, raw_score=Decimal(60))
    db.session.add(result)
    db.session.commit()
    result.raw_score = Decimal(65)
    result.state = ResultState.FINALIZED  # finalizing itself is an update of a not-yet-final row
    db.session.commit()
    db.session.expire_all()
    assert result.raw_score == Decimal(65) and result.state == "finalized"


def _dialect_sql(sqlite: str, postgresql: str) -> str:
    return postgresql if db.engine.dialect.name == "postgresql" else sqlite


@pytest.mark.parametrize("statement", [
    # SQLite's REPLACE deletes the old row without firing delete triggers
    ("INSERT OR REPLACE INTO final_results SELECT * FROM final_results",
     "INSERT INTO final_results SELECT * FROM final_results ON CONFLICT (id) DO UPDATE SET raw_score = 99"),
    ("INSERT INTO final_results SELECT * FROM final_results WHERE true ON CONFLICT (id) DO UPDATE SET raw_score = 99",
     "INSERT INTO final_results SELECT * FROM final_results ON CONFLICT (student_id, offering_id) "
     "DO UPDATE SET raw_score = 99"),
    ("INSERT OR REPLACE INTO result_amendments SELECT * FROM result_amendments",
     "INSERT INTO result_amendments SELECT * FROM result_amendments ON CONFLICT (id) DO UPDATE SET reason = 'x'"),
    ("REPLACE INTO final_results SELECT * FROM final_results", "TRUNCATE final_results CASCADE"),
    ("REPLACE INTO result_amendments SELECT * FROM result_amendments", "TRUNCATE result_amendments"),
])
def test_replace_upsert_and_truncate_are_refused(app, finalized, statement):
    with pytest.raises(DatabaseError, match="never"):
        with db.engine.begin() as conn:
            conn.execute(text(_dialect_sql(*statement)))
    db.session.expire_all()
    assert finalized.raw_score == Decimal("71.50") and finalized.state == "finalized"
    assert len(finalized.amendments) == 1 and finalized.amendments[0].reason == "exam re-marked"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM final_results")).scalar() == 1


def test_a_scheme_used_by_a_finalized_result_is_frozen_in_sql_too(app, make):
    from lms.records.models import JapaneseGradeScheme

    from lms.catalog.models import PartnerUniversity

    student = make.user(Role.STUDENT)
    offering = make.offering(students=[student])

    partner = PartnerUniversity(code="p", name_en="P")
    db.session.add(partner)
    db.session.flush()
    scheme = JapaneseGradeScheme(partner_id=partner.id, version=1, name="S", bands=[["0", "F"]], points={"F": "0"},
                                 passing=[])
    db.session.add(scheme)
    db.session.commit()
    make.finalized(student, offering, "50", scheme=scheme)
    for sql in (f"UPDATE japanese_grade_schemes SET points = '{{\"F\": \"4\"}}' WHERE id = {scheme.id}",
                f"DELETE FROM japanese_grade_schemes WHERE id = {scheme.id}"):
        with pytest.raises(DatabaseError):
            with db.engine.begin() as conn:
                conn.execute(text(sql))
