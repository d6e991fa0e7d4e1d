from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, DecimalField, HiddenField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, URLField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from lms.forms import options

ZONES = [("Asia/Tashkent", _l("Tashkent time")), ("Asia/Tokyo", _l("Tokyo time"))]
KINDS = [("files", _l("Files")), ("text", _l("Text")), ("link", _l("Link")), ("video", _l("Video")),
         ("game", _l("Playable game build (WebGL/HTML5 zip)"))]


class AssignmentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    instructions_md = TextAreaField(_l("Instructions (Markdown)"), validators=[Length(max=50_000)])
    points = DecimalField(_l("Points"), places=2, default=100, validators=[DataRequired(), NumberRange(min=0.01, max=10000)])
    category = StringField(_l("Grading category"), default="Assignments", validators=[DataRequired(), Length(max=80)])
    kinds = SelectMultipleField(_l("Accepted submissions"), choices=options(KINDS), default=["files"],
                                option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                validators=[DataRequired(_l("Accept at least one kind of submission."))])
    allowed_extensions = StringField(_l("Allowed file extensions (comma-separated, empty: any)"),
                                     default="png, jpg, pdf, zip", validators=[Length(max=500)])
    max_file_mb = IntegerField(_l("Largest file (MB)"), default=100, validators=[NumberRange(min=1, max=8192)])
    timezone = SelectField(_l("Dates below are in"), choices=options(ZONES), default="Asia/Tashkent")
    due_at = DateTimeLocalField(_l("Due"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    cutoff_at = DateTimeLocalField(_l("Hard cut-off (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    attempts_allowed = IntegerField(_l("Attempts allowed (0: unlimited)"), default=1, validators=[NumberRange(min=0, max=100)])
    grace_minutes = IntegerField(_l("Grace period (minutes)"), default=0, validators=[NumberRange(min=0, max=10080)])
    penalty_percent = DecimalField(_l("Late penalty (%)"), places=2, default=0, validators=[NumberRange(min=0, max=100)])
    penalty_unit = SelectField(_l("per"), choices=options([("day", _l("day late")), ("hour", _l("hour late"))]))
    max_penalty_percent = DecimalField(_l("Maximum penalty (%)"), places=2, default=100, validators=[NumberRange(min=0, max=100)])
    floor_percent = DecimalField(_l("Lateness never takes the score below (%)"), places=2, default=0,
                                 validators=[NumberRange(min=0, max=100)])
    portfolio_feedback = BooleanField(_l("Students may quote my feedback on this assignment in their public portfolios"))

    def validate_cutoff_at(self, field):
        if field.data and self.due_at.data and field.data < self.due_at.data:
            raise ValidationError(_l("The cut-off must be at or after the due date."))

    def validate_allowed_extensions(self, field):
        for ext in extensions_of(field.data):
            if not ext.isalnum() or len(ext) > 12:
                raise ValidationError(_l("Write extensions like: png, psd, blend"))


def extensions_of(text: str | None) -> list[str]:
    return [e.strip().lower().lstrip(".") for e in (text or "").split(",") if e.strip()]


class ExtensionForm(FlaskForm):
    student = StringField(_l("Student number or email"), validators=[DataRequired(), Length(max=254)])
    timezone = SelectField(_l("Dates below are in"), choices=options(ZONES), default="Asia/Tashkent")
    due_at = DateTimeLocalField(_l("New due date"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    cutoff_at = DateTimeLocalField(_l("New cut-off (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class SubmitForm(FlaskForm):
    kind = HiddenField()
    idempotency_key = HiddenField()
    text = TextAreaField(_l("Your answer"), validators=[Optional(), Length(max=200_000)])
    url = URLField(_l("Link (https://…)"), validators=[Optional(), Length(max=2000)])
