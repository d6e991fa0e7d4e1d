"""The gradebook: weighted course score, CSV export and import, bulk actions, constant queries."""
from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from lms.assignments.models import Assignment, Extension
from lms.auth.models import Role, User
from lms.catalog.models import Enrollment
from lms.extensions import db
from lms.grading import gradebook, services
from lms.grading.gradebook import Bucket, weighted_score
from lms.grading.models import Grade, GradeAudit
from lms.people.csv_import import CsvRejected
from tests.grading.conftest import DUE, client_as, make_assignment, make_category, make_submission

D = Decimal


def grade(assignment, student, actor, score):
    services.save_grade(assignment, student, actor, raw_score=score)
    db.session.commit()


def test_weighted_course_score_on_a_known_example(app, world):
    projects = make_category(world.offering, "Projects", "60", 0)
    exercises = make_category(world.offering, "Exercises", "40", 1)
    p1 = make_assignment(world.offering, title="Walk cycle", category_id=projects.id)
    p2 = make_assignment(world.offering, title="Jump", category_id=projects.id, due_at=DUE + timedelta(days=7))
    e1 = make_assignment(world.offering, title="Sketches", category_id=exercises.id)
    make_submission(p2, world.student, late_seconds=86400, penalty_percent=D("10"))
    grade(p1, world.student, world.instructor, "80")
    grade(p2, world.student, world.instructor, "100")   # final 90 after the 10 % penalty
    grade(e1, world.student, world.instructor, "70")
    grade(e1, world.student2, world.instructor, "55.5")  # only one category graded: it alone counts
    book = gradebook.build(world.offering)
    assert [b.name for b in book.buckets] == ["Projects", "Exercises"]
    assert [a.title for a in book.assignments] == ["Walk cycle", "Jump", "Sketches"]
    rows = {r.student_id: r for r in book.rows}
    # projects: (80 + 90) / 2 = 85; exercises: 70 → (85 × 60 + 70 × 40) / 100 = 79
    assert rows[world.student.id].course_score == D("79.00")
    assert [c.final for c in rows[world.student.id].cells] == [D("80.00"), D("90.00"), D("70.00")]
    assert rows[world.student2.id].course_score == D("55.50")
    assert gradebook.course_scores(world.offering) == {world.student.id: D("79.00"), world.student2.id: D("55.50")}
    assert gradebook.course_scores(world.offering, released_only=True) == {world.student.id: None,
                                                                          world.student2.id: None}


def test_uncategorised_work_takes_the_weight_left_over(app, world):
    half = make_category(world.offering, "Projects", "50")
    a = make_assignment(world.offering, title="Project", category_id=half.id)
    b = make_assignment(world.offering, title="Quiz")  # no category
    grade(a, world.student, world.instructor, "90")
    grade(b, world.student, world.instructor, "60")
    book = gradebook.build(world.offering)
    assert [(x.name, x.weight) for x in book.buckets] == [("Projects", D(50)), ("Uncategorised", D(50))]
    assert book.rows[0].course_score == D("75.00")


def test_instructors_set_category_weights(app, world, login):
    projects = make_category(world.offering, "Projects", "100")
    exercises = make_category(world.offering, "Exercises", "100")
    p = make_assignment(world.offering, title="Project", category_id=projects.id)
    e = make_assignment(world.offering, title="Exercise", category_id=exercises.id)
    grade(p, world.student, world.instructor, "90")
    grade(e, world.student, world.instructor, "60")
    assert gradebook.course_scores(world.offering)[world.student.id] == D("75.00")  # equal weights
    url = f"/grading/offerings/{world.offering.id}/weights"
    assert login(world.assistant).post(url, data={f"weight-{projects.id}": "10"}).status_code == 403
    client = login(world.instructor)
    bad = client.post(url, data={f"weight-{projects.id}": "80", f"weight-{exercises.id}": "101"})
    assert bad.status_code == 400 and "The weight of “Exercises” must be a number from 0 to 100".encode() in bad.data
    assert b'value="101"' in bad.data  # what was typed is shown again
    db.session.expire_all()
    assert (projects.weight, exercises.weight) == (D("100.00"), D("100.00"))
    assert client.post(url, data={f"weight-{projects.id}": "80", f"weight-{exercises.id}": "20"}).status_code == 302
    assert gradebook.course_scores(world.offering)[world.student.id] == D("84.00")


def test_weighted_score_rules():
    buckets = [Bucket(1, "A", D(70), [1, 2]), Bucket(2, "B", D(30), [3]), Bucket(None, "U", D(0), [4])]
    assert weighted_score({}, buckets) is None
    assert weighted_score({4: D(100)}, buckets) is None  # a bucket of weight 0 never counts
    assert weighted_score({1: D(100), 2: D(0)}, buckets) == D("50.00")
    assert weighted_score({1: D("66.67"), 3: D("33.33")}, buckets) == D("56.67")  # 56.668 half-up
    assert weighted_score({1: D(1), 2: D(2), 3: D(0)}, [Bucket(None, "U", D(100), [1, 2, 3])]) == D("1.00")


def test_csv_export_neutralises_formulas_and_keeps_japanese(app, world, login):
    evil = make_assignment(world.offering, title="=cmd|' /C calc'!A0")
    world.student.name_latin = "@SUM(1+1)"
    world.student.name_kana = "アジズ・カリモフ"
    db.session.commit()
    grade(evil, world.student, world.instructor, "88")
    response = login(world.registrar).get(f"/grading/offerings/{world.offering.id}/gradebook.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Japanese names right
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["student_number", "name_latin", "name_kana", "'=cmd|' /C calc'!A0", "course_score"]
    mine = next(r for r in rows if r[0] == world.student.student_number)
    assert mine[1:] == ["'@SUM(1+1)", "アジズ・カリモフ", "88.00", "88.00"]
    for cell in (c for r in rows for c in r):
        assert not cell or cell[0] not in "=+-@\t\r"


@pytest.mark.parametrize("value, text", [("-2+3", "'-2+3"), ("+1", "'+1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
                                         ("ok", "ok"), (None, ""), (D("12.50"), "12.50")])
def test_neutralise(value, text):
    assert gradebook.neutralise(value) == text


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_import_preview_lists_every_bad_row_and_applies_nothing(app, world, assignment, login):
    grade(assignment, world.student2, world.instructor, "40")
    data = csv_bytes("student_number,score", f"{world.student.student_number},77.5", "S99999,50",
                     f"{world.student2.student_number},101", f"{world.other_student.student_number},abc",
                     f"{world.student.student_number},60")
    preview = gradebook.preview_import(assignment, data, 2000)
    problems: dict[int, str] = {}
    for error in preview.errors:
        problems[error.line] = problems.get(error.line, "") + error.message + " "
    assert set(problems) == {3, 4, 5, 6}
    assert "no student with this number" in problems[3] and "from 0 to 100" in problems[4]
    assert "no student" in problems[5] and "from 0 to 100" in problems[5] and "appears twice" in problems[6]
    client = login(world.instructor)
    page = client.post(f"/grading/assignments/{assignment.id}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "scores.csv")})
    assert page.status_code == 400 and b"appears twice in the file" in page.data and b"S99999" in page.data
    assert b"import/apply" not in page.data  # no way to confirm a bad file
    forced = client.post(f"/grading/assignments/{assignment.id}/import/apply", data={"csv_text": data.decode()})
    assert forced.status_code == 400
    db.session.expire_all()
    assert db.session.scalars(select(Grade.raw_score)).all() == [D("40.00")]
    with pytest.raises(CsvRejected):
        gradebook.apply_import(assignment, world.instructor, data, 2000)


def test_import_preview_then_apply_is_audited(app, world, assignment, login):
    grade(assignment, world.student2, world.instructor, "40")
    data = csv_bytes("student_number,score,comment", f"{world.student.student_number},77.5,Good",
                     f"{world.student2.student_number},40,")
    client = login(world.assistant)
    page = client.post(f"/grading/assignments/{assignment.id}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"\xef\xbb\xbf" + data), "scores.csv"), "reason": "Paper quiz"})
    assert page.status_code == 200 and b"import/apply" in page.data and b"unchanged" in page.data
    assert db.session.scalar(select(Grade.id).where(Grade.student_id == world.student.id)) is None  # preview only
    response = client.post(f"/grading/assignments/{assignment.id}/import/apply",
                           data={"csv_text": data.decode(), "reason": "Paper quiz"})
    assert response.status_code == 302
    db.session.expire_all()
    assert services.grade_of(assignment.id, world.student.id).raw_score == D("77.50")
    assert services.grade_of(assignment.id, world.student.id).comment == "Good"
    rows = db.session.scalars(select(GradeAudit).where(GradeAudit.action == "import")).all()
    assert [(r.student_id, r.old, r.new["raw_score"], r.reason, r.actor_id) for r in rows] == [
        (world.student.id, None, "77.50", "Paper quiz", world.assistant.id)]


def test_bulk_release_and_extend(app, world, login):
    a1, a2 = make_assignment(world.offering, title="One"), make_assignment(world.offering, title="Two")
    grade(a1, world.student, world.assistant, "70")
    client = login(world.instructor)
    response = client.post(f"/grading/offerings/{world.offering.id}/release", data={"assignment": [a1.id, a2.id]})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, a1.id).released_at and db.session.get(Assignment, a2.id).released_at
    assert db.session.scalar(select(GradeAudit.student_id).where(GradeAudit.action == "release")) == world.student.id
    response = client.post(f"/grading/offerings/{world.offering.id}/extend", data={
        "extend-assignment_id": a1.id, "extend-due_at": "2026-10-08T23:59", "extend-reason": "Flooding in Nukus",
        "student": [world.student.id, world.student2.id]})
    assert response.status_code == 302
    extensions = db.session.scalars(select(Extension).order_by(Extension.student_id)).all()
    assert [e.student_id for e in extensions] == sorted([world.student.id, world.student2.id])
    assert extensions[0].due_at == datetime(2026, 10, 8, 18, 59, tzinfo=UTC)  # typed in Tashkent time (UTC+5)
    assert extensions[0].reason == "Flooding in Nukus" and extensions[0].granted_by_id == world.instructor.id
    # an earlier date than the assignment's own is refused, and nothing is written
    client.post(f"/grading/offerings/{world.offering.id}/extend", data={
        "extend-assignment_id": a2.id, "extend-due_at": "2026-09-01T10:00", "extend-reason": "x",
        "student": [world.student.id]})
    assert db.session.scalar(select(db.func.count(Extension.id))) == 2
    # a student of another offering cannot be slipped in
    with pytest.raises(Exception, match="not enrolled"):
        gradebook.bulk_extend(a2, [world.other_student.id], DUE + timedelta(days=3), None, "x", world.instructor)
    db.session.rollback()


def populate(offering, instructor, students: int, assignments: int) -> None:
    """Bulk inserts: students enrolled, assignments, and a grade for every cell."""
    tag = uuid.uuid4().hex[:6]
    db.session.execute(insert(User), [
        {"email": f"{tag}-{i}@bulk.test", "name_latin": f"Student {i}", "name_kana": "ガクセイ", "role": Role.STUDENT,
         "password_hash": "!", "must_change_password": False, "session_token": f"{tag}-{i}",
         "student_number": f"B{tag}{i:05d}"} for i in range(students)])
    ids = db.session.scalars(select(User.id).where(User.email.like(f"{tag}-%"))).all()
    db.session.execute(insert(Enrollment), [{"offering_id": offering.id, "student_id": sid} for sid in ids])
    categories = [make_category(offering, f"Cat {tag} {i}", "25", i) for i in range(3)]
    now = datetime.now(UTC)
    db.session.execute(insert(Assignment), [
        {"offering_id": offering.id, "title": f"A{j}", "due_at": DUE + timedelta(days=j), "kinds": ["text"],
         "allowed_extensions": [], "category_id": categories[j % 4].id if j % 4 < 3 else None,
         "floor_percent": D(0), "created_at": now, "updated_at": now} for j in range(assignments)])
    aids = db.session.scalars(select(Assignment.id).where(Assignment.offering_id == offering.id)).all()
    db.session.execute(insert(Grade), [
        {"assignment_id": aid, "student_id": sid, "raw_score": D((sid * 7 + aid * 3) % 101),
         "penalty_percent": D(10) if (sid + aid) % 5 == 0 else D(0), "rubric_levels": {}, "comment": "",
         "version": 1, "created_at": now, "updated_at": now} for sid in ids for aid in aids])
    db.session.commit()


def queries_for(app, make, count_queries, students: int, assignments: int) -> tuple[int, int, float]:
    instructor = make.user(Role.INSTRUCTOR)
    offering = make.offering(instructor=instructor)
    populate(offering, instructor, students, assignments)
    db.session.refresh(offering)  # loaded before counting: build() itself makes the queries counted
    with count_queries() as built:
        book = gradebook.build(offering)
    assert len(book.rows) == students and len(book.assignments) == assignments
    assert all(row.course_score is not None for row in book.rows)
    client = client_as(app, instructor)
    start = time.perf_counter()
    with count_queries() as page:
        response = client.get(f"/grading/offerings/{offering.id}/gradebook")
    assert response.status_code == 200
    return built.count, page.count, time.perf_counter() - start


def test_gradebook_renders_in_constant_queries(app, make, count_queries):
    small = queries_for(app, make, count_queries, 30, 5)
    large = queries_for(app, make, count_queries, 60, 10)
    assert small[0] == large[0] == 5
    assert small[1] == large[1]


def test_gradebook_600_students_by_30_assignments(app, make, count_queries):
    built, page, seconds = queries_for(app, make, count_queries, 600, 30)
    assert built == 5 and page == queries_for(app, make, count_queries, 30, 5)[1]
    assert seconds < 10, f"the 600 × 30 gradebook took {seconds:.1f} s"


def test_each_cell_links_to_grading_that_student_and_says_what_is_left(app, world, login):
    graded, waiting = make_assignment(world.offering, title="Graded"), make_assignment(world.offering, title="Waiting")
    grade(graded, world.student, world.instructor, "88")
    make_submission(waiting, world.student)
    page = login(world.instructor).get(f"/grading/offerings/{world.offering.id}/gradebook").get_data(as_text=True)
    for assignment, text in ((graded, "88"), (waiting, "to grade")):
        href = f"/grading/assignments/{assignment.id}/students/{world.student.id}"
        assert f'<a href="{href}">{text}' in page, href


def test_the_gradebook_reads_the_categories_once(app, world, login, count_queries):
    make_category(world.offering, "Projects", "60")
    client = login(world.instructor)
    with count_queries() as counter:
        assert client.get(f"/grading/offerings/{world.offering.id}/gradebook").status_code == 200
    reads = [s for s in counter.statements if "FROM grade_categories" in s]
    assert len(reads) == 1, reads


def test_gradebook_rows_show_penalties_gaps_kana_and_escape_names(app, world, login):
    late, open_ = make_assignment(world.offering, title="Late one"), make_assignment(world.offering, title="Open")
    make_submission(late, world.student, late_seconds=86400, penalty_percent=D("10"))
    grade(late, world.student, world.instructor, "80")
    world.student.name_latin, world.student.name_kana = "<b>Aziz</b>", "アジズ"
    db.session.commit()
    page = login(world.instructor).get(f"/grading/offerings/{world.offering.id}/gradebook").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if "アジズ" in r)
    assert "&lt;b&gt;Aziz&lt;/b&gt;" in row and "<b>Aziz" not in row  # a name is text, never markup
    assert f'/students/{world.student.id}">72.00<span class="late" title="late penalty">*</span></a>' in row
    assert f'{open_.id}/students/{world.student.id}">–</a>' in row  # nothing handed in: a dash, still a link
    assert f'name="student" value="{world.student.id}" form="extend-form"' in row
