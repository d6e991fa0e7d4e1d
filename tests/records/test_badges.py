"""An Open Badges 3.0 credential per passed course, signed by a job after finalization, re-issued
after an amendment, embedded in the signed transcript."""
import copy
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.credentials import services as credentials
from lms.credentials.models import ACHIEVEMENT, IssuedCredential
from lms.extensions import db
from lms.jobs.worker import Worker
from lms.records import issuing, services
from tests.records.test_workflow import World


@pytest.fixture
def finalized(app, make):
    world = World(make)
    world.course.skills = ["Core loop design", "Playtesting"]
    db.session.commit()
    passed, failed = world.students
    services.submit_offering(world.offering, {passed.id: Decimal(91), failed.id: Decimal(40)}, world.instructor.id)
    services.finalize_offering(world.offering, world.registrar.id)
    db.session.commit()
    assert Worker(app).run(drain=True) == 1
    return world


def badges():
    return db.session.scalars(select(IssuedCredential).where(IssuedCredential.kind == ACHIEVEMENT)
                              .order_by(IssuedCredential.issued_at)).all()


def test_a_passed_course_gets_a_signed_badge_with_its_skills(finalized):
    (badge,) = badges()  # the failed student gets none
    passed = finalized.students[0]
    assert badge.student_id == passed.id and badge.document is not None
    verdict = credentials.verify(badge.document)
    assert verdict.status == "valid" and verdict.proof_format == "data_integrity"
    subject = badge.document["credentialSubject"]
    assert subject["achievement"]["humanCode"] == finalized.course.code
    assert [a["targetName"] for a in subject["achievement"]["alignment"]] == ["Core loop design", "Playtesting"]
    assert badge.document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


def test_a_changed_grade_in_the_badge_is_detected(finalized):
    (badge,) = badges()
    forged = copy.deepcopy(badge.document)
    for result in forged["credentialSubject"]["result"]:
        if result["resultDescription"].endswith("#ja-letter"):
            result["value"] = "S+" if result["value"] == "S" else "S"
    assert credentials.verify(forged).status == "tampered"


def test_the_transcript_embeds_the_signed_badge(finalized):
    (badge,) = badges()
    row = issuing.student_clr(finalized.students[0].id)
    db.session.commit()
    verdict = credentials.verify(row.token)
    embedded = verdict.credential["credentialSubject"]["verifiableCredential"]
    assert badge.id in [c["id"] for c in embedded]
    assert verdict.status == "valid" and verdict.check("embedded").ok


def test_an_amendment_revokes_the_badge_and_issues_a_new_one(app, finalized):
    (old,) = badges()
    (result,) = [r for r in services.offering_results(finalized.offering.id).values()
                 if r.student_id == finalized.students[0].id]
    services.amend_result(result, Decimal(85), "exam re-marked", finalized.registrar.id)
    db.session.commit()
    assert credentials.verify(old.document).status == "revoked"
    assert "exam re-marked" in db.session.get(IssuedCredential, old.id).revoked_reason
    assert Worker(app).run(drain=True) == 1
    new = [b for b in badges() if b.id != old.id]
    assert len(new) == 1 and credentials.verify(new[0].document).status == "valid"
    letters = {r["resultDescription"].rsplit("#")[1]: r["value"] for r in new[0].document["credentialSubject"]["result"]}
    assert letters["ja-letter"] == "A"


def test_a_rerun_job_signs_what_a_stopped_attempt_reserved_and_never_twice(app, make):
    world = World(make, students=1)
    services.submit_offering(world.offering, {world.students[0].id: Decimal(95)}, world.instructor.id)
    (result,) = services.finalize_offering(world.offering, world.registrar.id)
    db.session.commit()
    reserved = credentials.reserve(ACHIEVEMENT, world.students[0].id, result.id)  # as if stopped mid-job
    db.session.commit()
    Worker(app).run(drain=True)
    issuing.enqueue_badges([result.id])  # asked again: nothing new
    db.session.commit()
    Worker(app).run(drain=True)
    (badge,) = badges()
    assert badge.id == reserved.id and badge.document is not None
