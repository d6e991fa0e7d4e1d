"""Forms of the academic record: scheme and rule versions, amendments, partner imports."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.forms import options


class SchemeForm(FlaskForm):
    name = StringField(lazy_pgettext("a thing's name", "Name"), validators=[DataRequired(), Length(max=120)])
    bands = TextAreaField(_l("Letter bands (lowest score and letter per line, highest first)"),
                          validators=[DataRequired(), Length(max=2000)])
    points = TextAreaField(_l("GPA points (letter and points per line)"), validators=[DataRequired(), Length(max=2000)])
    passing = StringField(_l("Passing letters (earn credit)"), validators=[DataRequired(), Length(max=200)])


class RuleForm(FlaskForm):
    name = StringField(lazy_pgettext("a thing's name", "Name"), validators=[DataRequired(), Length(max=120)])
    factor = DecimalField(_l("Factor (Uzbek credits per Japanese credit)"), places=6,
                          validators=[InputRequired(), NumberRange(min=0.000001, max=10)])
    step = DecimalField(_l("Round to a multiple of"), places=2, validators=[InputRequired(), NumberRange(min=0.01, max=10)])
    mode = SelectField(_l("Rounding"), choices=options([("half_up", _l("half up")), ("up", _l("up")),
                                                        ("down", _l("down"))]))
    source = TextAreaField(_l("Source (decision, document, date)"), validators=[DataRequired(), Length(max=2000)])
    recognised_counts = SelectField(_l("Recognised credits (認定) toward the Uzbek degree"), default="yes",
                                    choices=options([("yes", _l("count, converted with the factor below")),
                                                     ("no", _l("do not count"))]))
    recognised_factor = DecimalField(_l("Factor for recognised credits"), places=6,
                                     validators=[Optional(), NumberRange(min=0, max=10)])


class AmendForm(FlaskForm):
    new_raw = DecimalField(_l("New raw score (0–100)"), places=2,
                           validators=[InputRequired(), NumberRange(min=0, max=100)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ApproveImportForm(FlaskForm):
    """The checked file travels back with the approval and is checked again before anything is written."""

    payload = HiddenField(validators=[DataRequired()])


class RecognisedCreditForm(FlaskForm):
    title = StringField(_l("What is recognised"), validators=[DataRequired(), Length(max=200)])
    institution = StringField(_l("Where it was earned"), validators=[DataRequired(), Length(max=200)])
    ja_credits = DecimalField(_l("Japanese credits"), places=1,
                              validators=[InputRequired(), NumberRange(min=0.5, max=60)])
