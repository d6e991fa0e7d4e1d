"""Demo data for a first `make run`: partners, a program, a term, staff, students, offerings.

Loaded once: if the database already has users, nothing is touched. Never in production.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.auth.services import create_user
from lms.catalog import services as catalog
from lms.catalog.importer import CourseSpec, apply_course, read_courses
from lms.catalog.models import Course, PartnerUniversity, Program, StaffRole, Term
from lms.extensions import db
from lms.records.services import ensure_default_schemes, finalize_offering, recognise_credits, submit_offering

DEMO_PASSWORD = "bridge-demo-2026"

PARTNERS = [
    ("kansai-game-tech", "Kansai Institute of Game Technology", "関西ゲーム工科大学"),
    ("sakura-digital", "Sakura University of Digital Arts", "さくらデジタルアーツ大学"),
]
PROGRAMS = [
    ("jdu-game-dev", "JDU Game Development", "JDU ゲーム開発学科", "kansai-game-tech"),
    ("jdu-digital-art", "JDU Digital Art and Animation", "JDU デジタルアート・アニメーション学科", "sakura-digital"),
]
TERMS = [("2026-autumn", "Autumn 2026", date(2026, 9, 1), date(2027, 1, 31))]
STAFF = [
    ("admin@demo.jdu.uz", "Dilnoza Rashidova", Role.ADMIN),
    ("registrar@demo.jdu.uz", "Sardor Yusupov", Role.REGISTRAR),
    ("tanaka@demo.jdu.uz", "Kenji Tanaka", Role.INSTRUCTOR),
    ("sato@demo.jdu.uz", "Yui Sato", Role.INSTRUCTOR),
]
STUDENTS = [
    ("JDU26001", "Aziz Karimov", "アジズ・カリモフ", "aziz@demo.jdu.uz", "jdu-game-dev"),
    ("JDU26002", "Malika Tursunova", "マリカ・トゥルスノワ", "malika@demo.jdu.uz", "jdu-game-dev"),
    ("JDU26003", "Timur Aliyev", None, "timur@demo.jdu.uz", "jdu-digital-art"),
]
# course code -> (instructor email, assistant email or None)
JASSO_PARTNERS = ("sakura-digital",)  # the demo's partner on JASSO's 3-point GPA
TEACHING = {"GD101": ("tanaka@demo.jdu.uz", "sato@demo.jdu.uz"), "ART120": ("sato@demo.jdu.uz", None)}


def demo_logins() -> list[tuple[str, str, str]]:
    return [(str(role), email, DEMO_PASSWORD) for email, _name, role in STAFF] + \
        [("student", email, DEMO_PASSWORD) for *_x, email, _p in STUDENTS]


def load_demo(courses_dir: Path) -> list[CourseSpec] | None:
    """Load everything and return the course specs (copy their assets after the commit);
    None, and no change, when the database already has users. Flushes only."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    partners = {}
    for code, name_en, name_ja in PARTNERS:
        partners[code] = PartnerUniversity(code=code, name_en=name_en, name_ja=name_ja)
        db.session.add(partners[code])
    db.session.flush()
    programs = {}
    for code, name_en, name_ja, partner in PROGRAMS:
        programs[code] = Program(code=code, name_en=name_en, name_ja=name_ja, partner_id=partners[partner].id)
        db.session.add(programs[code])
    terms = [Term(code=c, name=n, starts_on=s, ends_on=e) for c, n, s, e in TERMS]
    db.session.add_all(terms)
    db.session.flush()
    users = {}
    for email, name, role in STAFF:
        users[email] = _demo_user(email=email, name_latin=name, role=role)
    for number, name, kana, email, program in STUDENTS:
        users[email] = _demo_user(email=email, name_latin=name, name_kana=kana, role=Role.STUDENT,
                                  student_number=number, program_id=programs[program].id, cohort_year=2026)
    specs = read_courses(courses_dir)
    for spec in specs:
        apply_course(spec)
    for code, (instructor, assistant) in TEACHING.items():
        course = db.session.scalar(select(Course).where(Course.code == code))
        if course is None:
            continue
        offering = catalog.create_offering(course, terms[0].id)
        catalog.add_staff(offering, users[instructor], StaffRole.INSTRUCTOR)
        if assistant:
            catalog.add_staff(offering, users[assistant], StaffRole.ASSISTANT)
        for *_x, email, _p in STUDENTS:
            catalog.enroll(offering, users[email])
    db.session.flush()
    ensure_default_schemes(jasso_partner_codes=JASSO_PARTNERS)
    _past_term(users)
    return specs


# A finished spring term, so a newcomer sees a real dual-degree record: ART120 with finalized
# results for two students, and recognised credits (認定) for one.
PAST_TERM = ("2026-spring", "Spring 2026", date(2026, 2, 2), date(2026, 6, 30))
PAST_SCORES = {"aziz@demo.jdu.uz": Decimal("88.50"), "malika@demo.jdu.uz": Decimal("93.00")}


def _past_term(users: dict[str, User]) -> None:
    course = db.session.scalar(select(Course).where(Course.code == "ART120"))
    if course is None:
        return
    code, name, starts_on, ends_on = PAST_TERM
    term = Term(code=code, name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(term)
    db.session.flush()
    offering = catalog.create_offering(course, term.id)
    catalog.add_staff(offering, users["sato@demo.jdu.uz"], StaffRole.INSTRUCTOR)
    for email in PAST_SCORES:
        catalog.enroll(offering, users[email])
    registrar = users["registrar@demo.jdu.uz"]
    submit_offering(offering, {users[e].id: score for e, score in PAST_SCORES.items()},
                    actor_id=users["sato@demo.jdu.uz"].id)
    finalize_offering(offering, registrar.id)
    recognise_credits(users["aziz@demo.jdu.uz"], "JLPT N3", "The Japan Foundation", Decimal(2), registrar)


def _demo_user(**fields) -> User:
    user, _password = create_user(password=DEMO_PASSWORD, **fields)
    user.must_change_password = False  # demo logins work straight away
    return user
