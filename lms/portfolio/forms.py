"""Forms of the portfolio editor. Lengths are checked again by the services (one message each)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import options
from lms.portfolio.models import DESCRIPTION_MAX, HEADLINE_MAX, LABEL_MAX, TITLE_MAX


class SettingsForm(FlaskForm):
    headline_ja = StringField(_l("Headline in Japanese"), validators=[Length(max=HEADLINE_MAX)])
    headline_en = StringField(_l("Headline in English"), validators=[Length(max=HEADLINE_MAX)])
    show_email = BooleanField(_l("Show my e-mail address to viewers"))
    show_student_number = BooleanField(_l("Show my student number to viewers"))
    hidden = BooleanField(_l("Hide my whole portfolio (every link answers “not found” until I show it again)"))


class PieceForm(FlaskForm):
    title_ja = StringField(_l("Title in Japanese"), validators=[Length(max=TITLE_MAX)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=TITLE_MAX)])
    description_ja = TextAreaField(_l("Description in Japanese (Markdown)"), validators=[Length(max=DESCRIPTION_MAX)])
    description_en = TextAreaField(_l("Description in English (Markdown)"), validators=[Length(max=DESCRIPTION_MAX)])
    show_grade = BooleanField(_l("Show my score"))
    show_feedback = BooleanField(_l("Show an excerpt of the instructor’s feedback (where the instructor allows it)"))


class AddPieceForm(FlaskForm):
    submission_id = IntegerField(validators=[DataRequired()])


EXPIRY_CHOICES = options([("", _l("Never")), ("30", _l("After 30 days")), ("90", _l("After 90 days")),
                          ("365", _l("After a year"))])


class LinkForm(FlaskForm):
    label = StringField(_l("Label (only you see it, e.g. the company you send it to)"),
                        validators=[Length(max=LABEL_MAX)])
    expires = SelectField(_l("The link expires"), choices=EXPIRY_CHOICES, validators=[Optional()])
