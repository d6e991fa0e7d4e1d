"""The kinds of notification, and how each is worded for its reader.

Each kind's summary is a catalog message id filled with the notification's stored parameters when
someone reads it, in their language (see lms/messages.py).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.messages import Message, later

ANNOUNCEMENT = "announcement"
GRADE_RELEASED = "grade_released"
DEADLINE_SOON = "deadline_soon"
VIDEO_READY = "video_ready"
EXPORT_READY = "export_ready"

# In the order the preferences page lists them, with the label it shows.
KINDS = {
    ANNOUNCEMENT: _l("Announcements in my courses"),
    GRADE_RELEASED: _l("Grades and feedback released"),
    DEADLINE_SOON: _l("A deadline in 24 hours"),
    VIDEO_READY: _l("My uploaded video is ready"),
    EXPORT_READY: _l("My transcript export is ready"),
}

_SUMMARIES = {
    ANNOUNCEMENT: later("New announcement in %(course)s: %(title)s").id,
    GRADE_RELEASED: later("Grades released for “%(assignment)s” (%(course)s)").id,
    DEADLINE_SOON: later("“%(assignment)s” is due within 24 hours (%(course)s)").id,
    VIDEO_READY: later("Your video for “%(lesson)s” is ready").id,
    EXPORT_READY: later("Your transcript export (%(program)s, %(year)s) is ready to download").id,
}


def summary(kind: str, params: dict) -> str:
    """One line in the reader's language (the current locale)."""
    message_id = _SUMMARIES.get(kind)
    if message_id is None:
        return kind
    try:
        return Message(message_id, params).translated()
    except (KeyError, ValueError, TypeError):  # parameters stored by an older version
        return message_id
