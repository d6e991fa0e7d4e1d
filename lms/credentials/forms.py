"""Forms of the credentials pages: the public verifier and the registrar's revocation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

MAX_CREDENTIAL_BYTES = 2 * 1024 * 1024  # a CLR transcript with every course is a few hundred KB


class VerifyForm(FlaskForm):
    """Either field; the view reads them itself so an oversized one gets its own message."""

    credential = TextAreaField(_l("Paste the credential (JSON, or a compact JWS starting with eyJ)"))
    file = FileField(_l("…or choose the credential file"))


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[DataRequired(), Length(max=2000)])
