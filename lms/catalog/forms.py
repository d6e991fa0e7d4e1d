from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from lms.forms import options
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from lms.catalog.importer import CODE_RE


def half_credit_steps(form, field) -> None:
    """The same rule as course files: credits come in steps of 0.5 (Numeric(4, 1) would round 2.25)."""
    if field.data is not None and field.data.is_finite() and 0 < field.data <= 30 and field.data % Decimal("0.5"):
        raise ValidationError(_l("Credits come in steps of 0.5, for example 1.5 or 2."))


class CourseForm(FlaskForm):
    code = StringField(_l("Course code"), validators=[
        DataRequired(), Regexp(CODE_RE.pattern, message=_l("Use a code like GD101: 2–5 capital letters and 3 digits."))])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    title_ja = StringField(_l("Title (Japanese)"), validators=[Optional(), Length(max=200)])
    summary_en = TextAreaField(_l("Summary (English)"), validators=[Optional(), Length(max=5000)])
    summary_ja = TextAreaField(_l("Summary (Japanese)"), validators=[Optional(), Length(max=5000)])
    credits = DecimalField(_l("Japanese credits (1 credit = 45 hours)"), places=1,
                           validators=[DataRequired(), NumberRange(min=0.5, max=30), half_credit_steps])
    hours = IntegerField(_l("Hours of study"), validators=[DataRequired(), NumberRange(min=1, max=2000)])


class ModuleForm(FlaskForm):
    title_en = StringField(_l("Module title (English)"), validators=[DataRequired(), Length(max=200)])
    title_ja = StringField(_l("Module title (Japanese)"), validators=[Optional(), Length(max=200)])


class LessonForm(FlaskForm):
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    title_ja = StringField(_l("Title (Japanese)"), validators=[Optional(), Length(max=200)])
    module_id = SelectField(_l("Module"), coerce=int)
    minutes = IntegerField(_l("Minutes of study"), default=15, validators=[NumberRange(min=0, max=600)])
    body_md = TextAreaField(_l("Lesson text (Markdown)"), validators=[Length(max=200_000)])
    published = BooleanField(_l("Visible to students"), default=True)


class OfferingForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=int)
    term_id = SelectField(_l("Term"), coerce=int)


class StaffForm(FlaskForm):
    email = StringField(_l("Instructor's email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=options([("instructor", _l("Instructor")),
                                                    ("assistant", _l("Teaching assistant"))]))


class EnrollForm(FlaskForm):
    student = StringField(_l("Student number or email"), validators=[DataRequired(), Length(max=254)])
