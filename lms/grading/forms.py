from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, MultipleFileField
from wtforms import (DateTimeLocalField, DecimalField, FieldList, Form, FormField, HiddenField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from lms.grading.scores import ScoreInvalid, parse_score


def score_field(form, field) -> None:
    if field.data and field.data.strip():
        try:
            parse_score(field.data)
        except ScoreInvalid as exc:
            raise ValidationError(exc.message) from None


class LevelForm(Form):
    title = StringField(_l("Level"), validators=[Optional(), Length(max=120)])
    points = DecimalField(_l("Points"), places=2, validators=[Optional(), NumberRange(min=0, max=9999.99)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class CriterionForm(Form):
    title = StringField(_l("Criterion"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    levels = FieldList(FormField(LevelForm), max_entries=12)


class RubricForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    criteria = FieldList(FormField(CriterionForm), max_entries=30)


class GradeForm(FlaskForm):
    score = StringField(_l("Score (0–100)"), validators=[Optional(), Length(max=12), score_field])
    comment = TextAreaField(_l("Comment for the student"), validators=[Optional(), Length(max=20000)])
    files = MultipleFileField(_l("Feedback files"))
    reason = StringField(_l("Reason for the change (kept in the grade's history)"),
                         validators=[Optional(), Length(max=500)])
    version = HiddenField()
    submission_id = HiddenField()


class PenaltyForm(FlaskForm):
    penalty = StringField(_l("Late penalty in percent (empty: the submission's own penalty)"),
                          validators=[Optional(), Length(max=12), score_field])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    version = HiddenField()


class TimedCommentForm(FlaskForm):
    second = StringField(_l("At (seconds, or minutes:seconds)"), validators=[DataRequired(), Length(max=12)])
    text = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=2000)])


class AttachRubricForm(FlaskForm):
    rubric_id = SelectField(_l("Rubric"), coerce=int)


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")), FileAllowed(["csv"], _l("Only .csv files are accepted."))])
    reason = StringField(_l("Reason (kept in each grade's history)"), validators=[Optional(), Length(max=500)])


class ConfirmImportForm(FlaskForm):
    csv_text = HiddenField(validators=[DataRequired()])
    reason = HiddenField(validators=[Optional(), Length(max=500)])


class ExtendForm(FlaskForm):
    assignment_id = SelectField(_l("Assignment"), coerce=int)
    due_at = DateTimeLocalField(_l("New due date"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    cutoff_at = DateTimeLocalField(_l("New cut-off (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
