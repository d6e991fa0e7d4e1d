"""Instructors build courses in the browser: courses, modules, lessons with a Markdown preview."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.auth.models import Role
from lms.auth.permissions import roles_required
from lms.catalog import permissions, services
from lms.catalog.forms import CourseForm, LessonForm, ModuleForm
from lms.catalog.models import Course, Lesson, Module
from lms.catalog.views import render_lesson_body
from lms.errors import Conflict
from lms.extensions import db
from lms.forms import options
from lms.loading import load_or_404

bp = Blueprint("authoring", __name__, url_prefix="/authoring")
authors = roles_required(Role.INSTRUCTOR, Role.ADMIN)


@bp.route("/courses")
@authors
def courses():
    rows = db.session.scalars(permissions.editable_courses(current_user).order_by(Course.code)).all()
    return render_template("authoring/courses.html", courses=rows)


@bp.route("/courses/new", methods=["GET", "POST"])
@authors
def new_course():
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = services.create_course(
                code=form.code.data, title_en=form.title_en.data, title_ja=form.title_ja.data,
                credits=form.credits.data, hours=form.hours.data, summary_en=form.summary_en.data or "",
                summary_ja=form.summary_ja.data or "", created_by=current_user)
        except Conflict as exc:
            form.code.errors = [exc.message]
        else:
            db.session.commit()
            flash(_("Course created. Add its first module."), "success")
            return redirect(url_for("authoring.course", course_id=course.id))
    return render_template("authoring/course_form.html", form=form, course=None)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@authors
def course(course_id: int):
    course = load_or_404(Course, course_id, permissions.can_edit_course)
    form = CourseForm(obj=course)
    module_form = ModuleForm(prefix="module")
    if form.validate_on_submit():
        if form.code.data != course.code and db.session.scalar(select(Course.id).where(Course.code == form.code.data)):
            form.code.errors = [_("A course with the code %(code)s already exists.", code=form.code.data)]
        else:
            form.populate_obj(course)
            course.title_ja = course.title_ja or None
            db.session.commit()
            flash(_("Course saved."), "success")
            return redirect(url_for("authoring.course", course_id=course.id))
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)
                                 .order_by(Lesson.position)).all()
    return render_template("authoring/course.html", course=course, form=form,
                           module_form=module_form, lessons=lessons)


@bp.route("/courses/<int:course_id>/modules", methods=["POST"])
@authors
def add_module(course_id: int):
    course = load_or_404(Course, course_id, permissions.can_edit_course)
    form = ModuleForm(prefix="module")
    if form.validate_on_submit():
        services.add_module(course, form.title_en.data, form.title_ja.data)
        db.session.commit()
        flash(_("Module added."), "success")
    else:
        flash(_("The module needs an English title of at most 200 characters."), "error")
    return redirect(url_for("authoring.course", course_id=course.id))


@bp.route("/modules/<int:module_id>", methods=["GET", "POST"])
@authors
def edit_module(module_id: int):
    module = load_or_404(Module, module_id)
    if not permissions.can_edit_course(current_user, module.course):
        abort(403)
    form = ModuleForm(obj=module)
    if form.validate_on_submit():
        module.title_en, module.title_ja = form.title_en.data, form.title_ja.data or None
        db.session.commit()
        flash(_("Module saved."), "success")
        return redirect(url_for("authoring.course", course_id=module.course_id))
    return render_template("authoring/module_form.html", form=form, module=module)


def _lesson_form(course: Course, lesson: Lesson | None = None) -> LessonForm:
    form = LessonForm(obj=lesson)
    form.module_id.choices = options((m.id, m.title_en) for m in course.modules)
    return form


@bp.route("/courses/<int:course_id>/lessons/new", methods=["GET", "POST"])
@authors
def new_lesson(course_id: int):
    course = load_or_404(Course, course_id, permissions.can_edit_course)
    if not course.modules:
        flash(_("Add a module first; lessons live in modules."), "info")
        return redirect(url_for("authoring.course", course_id=course.id))
    form = _lesson_form(course)
    if form.validate_on_submit():
        module = next(m for m in course.modules if m.id == form.module_id.data)
        lesson = services.add_lesson(module, title_en=form.title_en.data, title_ja=form.title_ja.data,
                                     body_md=form.body_md.data or "", minutes=form.minutes.data or 0,
                                     published=form.published.data)
        db.session.commit()
        flash(_("Lesson created."), "success")
        return redirect(url_for("authoring.edit_lesson", lesson_id=lesson.id))
    return render_template("authoring/lesson_form.html", form=form, course=course, lesson=None, preview=None)


@bp.route("/lessons/<int:lesson_id>", methods=["GET", "POST"])
@authors
def edit_lesson(lesson_id: int):
    lesson = load_or_404(Lesson, lesson_id)
    if not permissions.can_edit_course(current_user, lesson.course):
        abort(403)
    form = _lesson_form(lesson.course, lesson)
    if form.validate_on_submit():
        form.populate_obj(lesson)
        lesson.title_ja = lesson.title_ja or None
        db.session.commit()
        flash(_("Lesson saved."), "success")
        return redirect(url_for("authoring.edit_lesson", lesson_id=lesson.id))
    return render_template("authoring/lesson_form.html", form=form, course=lesson.course,
                           lesson=lesson, preview=render_lesson_body(lesson))
