"""bench/pages.py's data: the pages measured, and a cohort built on a migrated database (GD101
with its lessons, two assignments, grades and progress per student, ART120 finalized)."""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "pages-bench-Kakehashi-2026"
NAMES = ["Aziz Karimov", "Malika Tursunova", "Timur Aliyev", "Dilnoza Rashidova", "Sardor Yusupov",
         "Nodira Ergasheva", "Jasur Rakhimov", "Kamola Nazarova", "Bekzod Saidov", "Madina Qodirova"]


@dataclass
class Ids:
    """What the pages are about: made once by build_base."""
    offering: int = 0
    past_offering: int = 0
    lesson: int = 0  # a lesson in the middle of the course: it has a previous and a next one
    done_lessons: list[int] = field(default_factory=list)
    assignments: list[int] = field(default_factory=list)
    instructor_email: str = ""
    registrar_id: int = 0
    program: int = 0
    password_hash: str = ""


@dataclass
class Page:
    name: str
    path: str
    role: str  # "student" or "instructor": who is logged in
    status: int = 200


def pages_of(ids: Ids) -> list[Page]:
    return [Page("home", "/", "student"),
            Page("offering", f"/offerings/{ids.offering}", "student"),
            Page("lesson", f"/offerings/{ids.offering}/lessons/{ids.lesson}", "student"),
            Page("gradebook", f"/grading/offerings/{ids.offering}/gradebook", "instructor"),
            Page("record", "/records/me", "student")]


# Not a page: what any logged-in request costs before a view does anything. GET /login answers 302
# to home after the session, the user loader and the before/after hooks (CSRF, babel, metrics,
# security headers). Measured like the pages, without a target: the ceiling of any page's ratio.
FLOOR = Page("floor", "/login", "student", 302)


def student_email(i: int) -> str:
    return f"student{i:05d}@bench.test"


def build_base(app) -> Ids:
    """Partners, program, schemes, terms, both courses from courses/, the instructor, two offerings,
    two assignments. Through the services, as the demo does (lms/demo.py)."""
    from sqlalchemy import select

    from lms.assignments.models import Assignment
    from lms.auth.models import Role
    from lms.auth.passwords import hash_password
    from lms.auth.services import create_user
    from lms.catalog import services as catalog
    from lms.catalog.importer import apply_course, read_courses
    from lms.catalog.models import Lesson, Module, PartnerUniversity, Program, StaffRole, Term
    from lms.demo import PARTNERS
    from lms.extensions import db
    from lms.records.services import ensure_default_schemes

    ids = Ids(password_hash=hash_password(PASSWORD))  # scrypt once; every student shares it
    with app.app_context():
        partners = {code: PartnerUniversity(code=code, name_en=en, name_ja=ja) for code, en, ja in PARTNERS}
        db.session.add_all(partners.values())
        db.session.flush()
        program = Program(code="jdu-game-dev", name_en="JDU Game Development", name_ja="JDU ゲーム開発学科",
                          partner_id=partners["kansai-game-tech"].id)
        now_term = Term(code="2026-autumn", name="Autumn 2026", starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 31))
        past_term = Term(code="2026-spring", name="Spring 2026", starts_on=date(2026, 2, 2), ends_on=date(2026, 6, 30))
        db.session.add_all([program, now_term, past_term])
        db.session.flush()
        ensure_default_schemes()
        courses = {spec.code: apply_course(spec) for spec in read_courses(ROOT / "courses")}
        staff = {}
        for email, name, role in (("tanaka@bench.test", "Kenji Tanaka", Role.INSTRUCTOR),
                                  ("registrar@bench.test", "Sardor Yusupov", Role.REGISTRAR)):
            staff[role], _ = create_user(email=email, name_latin=name, role=role, password=PASSWORD)
            staff[role].must_change_password = False  # else every page redirects to the password form
        current = catalog.create_offering(courses["GD101"], now_term.id)
        past = catalog.create_offering(courses["ART120"], past_term.id)
        for offering in (current, past):
            catalog.add_staff(offering, staff[Role.INSTRUCTOR], StaffRole.INSTRUCTOR)
        # One deadline passed (graded), one in a week (on the students' home page, "Coming deadlines").
        today = datetime.now(UTC).replace(hour=14, minute=0, second=0, microsecond=0)
        due = [today - timedelta(days=20), today + timedelta(days=7)]
        assignments = [Assignment(offering_id=current.id, title=title, kinds=["text"], due_at=at,
                                  instructions_md="Hand in a one-page write-up.", created_by_id=staff[Role.INSTRUCTOR].id)
                       for title, at in (("Project 1: a core loop", due[0]), ("Exercise: paper prototype", due[1]))]
        db.session.add_all(assignments)
        db.session.flush()
        lessons = db.session.scalars(select(Lesson).join(Module).where(Lesson.course_id == current.course_id)
                                     .order_by(Module.position, Lesson.position)).all()
        ids.offering, ids.past_offering, ids.program = current.id, past.id, program.id
        ids.lesson, ids.done_lessons = lessons[len(lessons) // 2].id, [x.id for x in lessons[:3]]
        ids.assignments = [a.id for a in assignments]
        ids.instructor_email, ids.registrar_id = staff[Role.INSTRUCTOR].email, staff[Role.REGISTRAR].id
        db.session.commit()
    return ids


def add_students(app, ids: Ids, start: int, stop: int) -> None:
    """Students start..stop-1: users, enrollments, progress, submissions and grades as Core bulk
    inserts (seconds, not minutes); the past offering's results submitted and finalized through the
    records services, as a registrar would."""
    from sqlalchemy import insert, select

    from lms.assignments.models import Assignment, Submission, SubmissionKind
    from lms.auth.models import Role, User
    from lms.catalog.models import Enrollment, LessonProgress, Offering
    from lms.extensions import db
    from lms.grading.models import Grade
    from lms.records.services import finalize_offering, submit_offering

    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(insert(User), [dict(
            email=student_email(i), name_latin=f"{NAMES[i % len(NAMES)]} {i}", name_kana=None, role=Role.STUDENT,
            password_hash=ids.password_hash, must_change_password=False, disabled=False,
            session_token=secrets.token_urlsafe(32), student_number=f"B26{i:05d}", program_id=ids.program,
            cohort_year=2026, created_at=now, updated_at=now) for i in range(start, stop)])
        students = db.session.execute(select(User.id, User.student_number).where(
            User.email.in_([student_email(i) for i in range(start, stop)])).order_by(User.student_number)).all()
        db.session.execute(insert(Enrollment), [dict(offering_id=o, student_id=s.id, enrolled_at=now)
                                                for s in students for o in (ids.offering, ids.past_offering)])
        enrollment_of = dict(db.session.execute(select(Enrollment.student_id, Enrollment.id).where(
            Enrollment.offering_id == ids.offering, Enrollment.student_id.in_([s.id for s in students]))).all())
        db.session.execute(insert(LessonProgress), [dict(
            enrollment_id=enrollment_of[s.id], lesson_id=lesson, opened_at=now - timedelta(days=20),
            completed_at=now - timedelta(days=19)) for s in students for lesson in ids.done_lessons])
        due = dict(db.session.execute(select(Assignment.id, Assignment.due_at).where(
            Assignment.id.in_(ids.assignments))).all())
        db.session.execute(insert(Submission), [dict(
            assignment_id=a, student_id=s.id, attempt=1, kind=SubmissionKind.TEXT,
            text="My core loop: explore, collect, build, defend. " * 4, submitted_at=due[a] - timedelta(hours=3),
            due_at=due[a], late_seconds=0, penalty_percent=Decimal(0), idempotency_key=uuid.uuid4().hex)
            for n, s in enumerate(students, start) for a in ids.assignments
            if a == ids.assignments[0] or n % 3])  # the coming one: two in three handed in early
        graded = ids.assignments[0]
        submission_of = dict(db.session.execute(select(Submission.student_id, Submission.id).where(
            Submission.assignment_id == graded, Submission.student_id.in_([s.id for s in students]))).all())
        db.session.execute(insert(Grade), [dict(
            assignment_id=graded, student_id=s.id, submission_id=submission_of[s.id],
            raw_score=Decimal(55 + (n * 37) % 45), penalty_percent=Decimal(0), penalty_overridden=False,
            rubric_levels={}, comment="Clear loop; tighten the reward step.", version=1, created_at=now,
            updated_at=now) for n, s in enumerate(students, start)])
        past = db.session.get(Offering, ids.past_offering)
        chosen = {s.id for s in students}
        others = set(db.session.scalars(select(Enrollment.student_id).where(
            Enrollment.offering_id == past.id))) - chosen  # finalized in an earlier call
        submit_offering(past, {sid: Decimal(60 + sid % 40) for sid in chosen}, ids.registrar_id, excluded=others)
        finalize_offering(past, ids.registrar_id)
        db.session.commit()
