from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from lms.forms import options
from wtforms import DateField, EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

CODE = Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$", message=_l("Lowercase letters, digits and dashes, 2–40 characters."))


class PartnerForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), CODE])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Optional(), Length(max=200)])


class ProgramForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), CODE])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Optional(), Length(max=200)])
    partner_id = SelectField(_l("Partner university"), coerce=int)
    ja_credits_required = IntegerField(_l("Japanese credits for the degree"), default=124,
                                       validators=[DataRequired(), NumberRange(min=1, max=400)])
    uz_credits_required = IntegerField(_l("Uzbek credits for the degree"), default=240,
                                       validators=[DataRequired(), NumberRange(min=1, max=600)])


class TermForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), CODE])
    name = StringField(lazy_pgettext("a thing's name", "Name"), validators=[DataRequired(), Length(max=120)])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    # Left empty, a term sits where most of its teaching days fall (lms/records/terms.py).
    ja_semester = SelectField(_l("Japanese semester"), default="", validate_choice=False,
                              choices=options([("", _l("by its teaching days")), ("前期", "前期"), ("後期", "後期")]))
    ja_year = IntegerField(_l("Japanese academic year (年度)"), validators=[Optional(), NumberRange(min=2000, max=2100)],
                           description=_l("Only where the teaching days do not decide it, e.g. 2026."))

    def validate_ja_semester(self, field):  # a term saved without one has None, which no choice is
        if field.data not in (None, "", "前期", "後期"):
            from wtforms.validators import ValidationError
            raise ValidationError(_l("Not a valid choice."))

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data <= self.starts_on.data:
            from wtforms.validators import ValidationError
            raise ValidationError(_l("The term must end after it starts."))


STAFF_ROLES = [("instructor", _l("Instructor")), ("registrar", _l("Registrar")), ("admin", _l("Administrator"))]
ALL_ROLES = [("student", _l("Student"))] + STAFF_ROLES


class StaffUserForm(FlaskForm):
    name_latin = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField(_l("Role"), choices=options(STAFF_ROLES))


class UserRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=options(ALL_ROLES))
