from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.assignments.forms import ZONES
from lms.community.services import BODY_MAX, TITLE_MAX
from lms.forms import options


class AnnouncementForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body_md = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), Length(max=BODY_MAX)])
    timezone = SelectField(_l("The publish time is in"), choices=options(ZONES), default="Asia/Tashkent")
    publish_at = DateTimeLocalField(_l("Publish at (empty: now)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    pinned = BooleanField(_l("Pin to the top of the course page"))
