"""What students and staff read: my courses, a course page, a lesson page, lesson assets."""
from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import quote

from flask import (Blueprint, abort, flash, redirect, render_template,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, load_only

from lms import markdown
from lms.catalog import permissions, services
from lms.catalog.importer import ASSET_TYPES, asset_key
from lms.catalog.models import Course, Enrollment, Lesson, LessonProgress, Module, Offering, Term
from lms.db import prebuilt
from lms.errors import attempt
from lms.extensions import db
from lms.loading import load_or_404
from lms.storage import StorageError
from lms.storage.base import check_key, guess_type
from lms.storage.delivery import deliver

bp = Blueprint("catalog", __name__)

# A course page names its course, term and partner university: one statement with the offering.
_SHOWN_WITH_OFFERING = (joinedload(Offering.course).joinedload(Course.partner), joinedload(Offering.term))
# The course and lesson pages' statements, built once (lms/db.py, prebuilt statements).
_MODULES = select(Module).where(Module.course_id == bindparam("course_id")).order_by(Module.position)
_LESSONS = select(Lesson).where(Lesson.course_id == bindparam("course_id")).order_by(Lesson.position)
# Previous and next lesson links: titles only, not every lesson's text.
_SIBLINGS = (select(Lesson).join(Module).where(Lesson.course_id == bindparam("course_id"), Lesson.published)
             .order_by(Module.position, Lesson.position)
             .options(load_only(Lesson.id, Lesson.course_id, Lesson.title_en, Lesson.title_ja, raiseload=True)))


@bp.route("/")
@login_required
def home():
    query = _home_offerings(permissions.oversees_all(current_user))
    return render_template("catalog/home.html",
                           offerings=db.session.execute(query, {"user_id": current_user.id}).all())


@prebuilt
def _home_offerings(oversees_all: bool):
    """One statement: each offering the user may open (all of them for registrars and admins) with
    its course, partner and term, the user's enrollment in it, and its published lessons, all and
    completed by the user (the page every user opens first)."""
    user_id = bindparam("user_id")
    mine = aliased(Enrollment)
    total = (select(func.count()).select_from(Lesson)
             .where(Lesson.course_id == Offering.course_id, Lesson.published).scalar_subquery())
    finished = (select(func.count()).select_from(LessonProgress).join(Lesson, Lesson.id == LessonProgress.lesson_id)
                .where(LessonProgress.enrollment_id == mine.id, LessonProgress.completed_at.is_not(None),
                       Lesson.published).scalar_subquery())
    return (permissions.offerings_visible_to(user_id, oversees_all).join(Term).join(Course)
            .outerjoin(mine, and_(mine.offering_id == Offering.id, mine.student_id == user_id))
            .add_columns(mine.id, total, finished)
            .options(contains_eager(Offering.term), contains_eager(Offering.course).joinedload(Course.partner))
            .order_by(Term.starts_on.desc(), Course.code))


@bp.route("/offerings/<int:offering_id>")
@login_required
def offering(offering_id: int):
    offering = load_or_404(Offering, offering_id, permissions.can_view_offering, options=_SHOWN_WITH_OFFERING)
    staff = permissions.staff_role(current_user, offering) or permissions.oversees_all(current_user)
    modules = db.session.scalars(_MODULES, {"course_id": offering.course_id}).all()
    lessons = db.session.scalars(_LESSONS, {"course_id": offering.course_id}).all()
    by_module: dict[int, list[Lesson]] = {}
    for lesson in lessons:
        if lesson.published or staff:
            by_module.setdefault(lesson.module_id, []).append(lesson)
    enrollment = permissions.enrollment_of(current_user, offering)
    progress = services.progress_by_lesson(enrollment)
    published = [x for x in lessons if x.published]
    completed = sum(1 for x in published if progress.get(x.id) and progress[x.id].completed_at)
    return render_template("catalog/offering.html", offering=offering, course=offering.course,
                           modules=[m for m in modules if by_module.get(m.id)], by_module=by_module,
                           progress=progress, enrollment=enrollment, completed=completed,
                           total=len(published), can_edit=permissions.can_edit_course(current_user, offering.course))


def _lesson_context(offering_id: int, lesson_id: int) -> tuple[Offering, Lesson]:
    offering = load_or_404(Offering, offering_id, permissions.can_view_offering, options=_SHOWN_WITH_OFFERING)
    lesson = db.session.get(Lesson, lesson_id, options=[joinedload(Lesson.module)])
    if lesson is None or lesson.course_id != offering.course_id:
        abort(404)
    if not permissions.can_view_lesson(current_user, offering, lesson):
        abort(404 if not lesson.published else 403)
    return offering, lesson


def render_lesson_body(lesson: Lesson):
    course = lesson.course
    return _lesson_html(lesson.body_md or "", course.id, course.slug, url_for("catalog.course_asset",
                        course_id=course.id, name="_").removesuffix("_"))


@functools.lru_cache(maxsize=512)
def _lesson_html(body_md: str, course_id: int, slug: str | None, assets_url: str):
    """Parsing and sanitizing a lesson is ~1.6 ms for 4.5 KB, on every view of it: kept per body
    text (an edit makes a new key), per course and its assets' URL."""
    def resolve(url: str) -> str:
        if url.startswith("assets/") and slug:
            return assets_url + quote(url.removeprefix("assets/"), safe="")
        return url

    return markdown.render(body_md, resolve)


@bp.route("/offerings/<int:offering_id>/lessons/<int:lesson_id>")
@login_required
def lesson(offering_id: int, lesson_id: int):
    offering, lesson = _lesson_context(offering_id, lesson_id)
    enrollment = permissions.enrollment_of(current_user, offering)
    progress = None
    if enrollment is not None:
        progress, added = services.open_lesson(enrollment, lesson)
        if added:
            db.session.commit()
    siblings = db.session.scalars(_SIBLINGS, {"course_id": offering.course_id}).all()
    index = next((i for i, x in enumerate(siblings) if x.id == lesson.id), None)
    previous = siblings[index - 1] if index else None
    following = siblings[index + 1] if index is not None and index + 1 < len(siblings) else None
    return render_template("catalog/lesson.html", offering=offering, lesson=lesson,
                           body=render_lesson_body(lesson), progress=progress,
                           enrollment=enrollment, previous=previous, following=following)


@bp.route("/offerings/<int:offering_id>/lessons/<int:lesson_id>/complete", methods=["POST"])
@login_required
def complete(offering_id: int, lesson_id: int):
    offering, lesson = _lesson_context(offering_id, lesson_id)
    enrollment = permissions.enrollment_of(current_user, offering)
    if enrollment is None:
        abort(403)
    if attempt(lambda: services.mark_completed(enrollment, lesson)) is not None:
        flash(_("Lesson marked as completed."), "success")
    return redirect(url_for("catalog.lesson", offering_id=offering.id, lesson_id=lesson.id))


@bp.route("/courses/<int:course_id>/assets/<name>")
@login_required
def course_asset(course_id: int, name: str):
    course = load_or_404(Course, course_id, permissions.can_view_course_assets)
    if not course.slug or Path(name).suffix.lower() not in ASSET_TYPES:
        abort(404)
    try:
        key = asset_key(course.slug, name)
        check_key(key)
    except StorageError:
        abort(404)
    response = deliver(key, mimetype=guess_type(name), inline=True, max_age=3600, expires=3600)
    if response.status_code == 200:
        response.headers["Cache-Control"] = "private, max-age=3600"
    return response
