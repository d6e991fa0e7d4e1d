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
