from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from lms.forms import options
from lms.notifications.kinds import KINDS
from lms.notifications.models import Delivery

DELIVERIES = [(Delivery.IMMEDIATELY.value, _l("E-mail at once")),
              (Delivery.DIGEST.value, _l("E-mail once a day (digest)")),
              (Delivery.OFF.value, _l("No e-mail (in Kakehashi only)"))]


def preferences_form(current: dict[str, str], **kwargs) -> FlaskForm:
    """One choice per kind of notification, with the reader's current choices."""
    class NotificationPreferencesForm(FlaskForm):
        pass

    for kind, label in KINDS.items():
        setattr(NotificationPreferencesForm, kind,
                SelectField(label, choices=options(DELIVERIES), default=current.get(kind, Delivery.IMMEDIATELY.value)))
    return NotificationPreferencesForm(prefix="notify", **kwargs)
