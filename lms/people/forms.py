from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from lms.people.csv_import import KATAKANA_RE, LATIN_RE, STUDENT_NUMBER_RE


class StudentForm(FlaskForm):
    student_number = StringField(_l("Student number"), validators=[
        DataRequired(), Regexp(STUDENT_NUMBER_RE.pattern, message=_l("3–20 letters, digits or dashes."))])
    name_latin = StringField(_l("Name (Latin letters)"), validators=[
        DataRequired(), Length(max=120), Regexp(LATIN_RE.pattern, message=_l("Use Latin letters."))])
    name_kana = StringField(_l("Name (katakana, optional)"), validators=[
        Optional(), Length(max=120), Regexp(KATAKANA_RE.pattern, message=_l("Use katakana."))])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    program_id = SelectField(_l("Program"), coerce=int)
    cohort_year = IntegerField(_l("Cohort year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])


class CsvUploadForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")), FileAllowed(["csv"], _l("Only .csv files are accepted."))])
