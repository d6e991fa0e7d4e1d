"""Partner grade import: per-row errors and nothing written on a bad file; approve submits all."""
import base64
from decimal import Decimal

from sqlalchemy import func, select

from lms.extensions import db
from lms.records import services
from lms.records.models import FinalResult, ResultState
from tests.records.test_workflow import World


def upload(client, text: str):
    from io import BytesIO

    return client.post("/records/import", data={"file": (BytesIO(text.encode()), "grades.csv")},
                       content_type="multipart/form-data")


def count_results():
    return db.session.scalar(select(func.count()).select_from(FinalResult))


def test_bad_rows_are_listed_and_nothing_is_written(client, auth, make):
    world = World(make)
    a, b = world.students
    done = make.offering(make.course(partner_id=world.partner.id), students=[a])
    services.submit_offering(done, {a.id: Decimal(70)}, world.registrar.id)
    services.finalize_offering(done, world.registrar.id)
    other = make.course(code="XX900")
    db.session.commit()
    code = world.course.code
    auth.login(world.registrar)
    response = upload(client, "student_number,course_code,score\n"
                              f"{a.student_number},{code},85\n"         # 2 fine
                              f"NOPE,{code},85\n"                       # 3 unknown student
                              f"{a.student_number},ZZZ,85\n"            # 4 unknown course
                              f"{b.student_number},{code},101\n"        # 5 out of range
                              f"{a.student_number},{code},80\n"         # 6 duplicate
                              f"{a.student_number},{other.code},80\n"   # 7 not enrolled
                              f"{a.student_number},{done.course.code},A\n")  # 8 finalized
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was saved" in text
    for line, words in [(3, "no student"), (4, "no course"), (5, "score must be"), (6, "twice"),
                        (7, "not enrolled"), (8, "already finalized")]:
        assert f"<td>{line}</td><td>" in text and words in text
    assert "<td>2</td><td>" not in text
    assert count_results() == 1


def test_preview_then_approve(client, auth, make):
    world = World(make)
    a, b = world.students
    csv = f"student_number,course_code,score\n{a.student_number},{world.course.code},85.5\n" \
          f"{b.student_number},{world.course.code},b\n"
    auth.login(world.registrar)
    preview = upload(client, csv)
    assert preview.status_code == 200 and "85.50" in preview.get_data(as_text=True)
    assert "70.00" in preview.get_data(as_text=True)  # letter B → its band's lowest score
    assert count_results() == 0
    response = client.post("/records/import/approve", data={"payload": base64.b64encode(csv.encode()).decode()})
    assert response.status_code == 302
    results = {r.student_id: r for r in db.session.scalars(select(FinalResult))}
    assert {r.source for r in results.values()} == {"partner_import"}
    assert {r.state for r in results.values()} == {ResultState.SUBMITTED}
    assert (results[a.id].raw_score, results[b.id].raw_score) == (Decimal("85.50"), Decimal("70.00"))


def test_approve_checks_again(client, auth, make):
    world = World(make)
    csv = f"student_number,course_code,score\nNOPE,{world.course.code},85\n"
    auth.login(world.registrar)
    response = client.post("/records/import/approve", data={"payload": base64.b64encode(csv.encode()).decode()})
    assert response.status_code == 400 and count_results() == 0


def test_only_registrars_import(client, auth, make):
    world = World(make)
    auth.login(world.instructor)
    assert client.get("/records/import").status_code == 403
    assert client.post("/records/import/approve", data={"payload": "eA=="}).status_code == 403


def test_a_term_column_picks_one_of_two_offerings_of_a_course(client, auth, make):
    world = World(make, students=1)
    (student,) = world.students
    retake = make.offering(world.course, students=[student])  # the same course again, another term
    db.session.commit()
    code = world.course.code
    auth.login(world.registrar)
    without = upload(client, f"student_number,course_code,score\n{student.student_number},{code},85\n")
    assert "add a term column" in without.get_data(as_text=True) and count_results() == 0
    page = upload(client, "student_number,course_code,score,term\n"
                          f"{student.student_number},{code},85,{retake.term.code}\n"
                          f"{student.student_number},{code},70,{world.offering.term.code}\n"
                          f"{student.student_number},{code},70,no-such-term\n")
    text = page.get_data(as_text=True)
    assert "no term with code no-such-term" in text and count_results() == 0
    ok = upload(client, "student_number,course_code,score,term\n"
                        f"{student.student_number},{code},85,{retake.term.code}\n")
    payload = ok.get_data(as_text=True).split('name="payload" type="hidden" value="')[1].split('"')[0]
    client.post("/records/import/approve", data={"payload": payload})
    (result,) = db.session.scalars(select(FinalResult)).all()
    assert result.offering_id == retake.id and result.raw_score == Decimal(85)
