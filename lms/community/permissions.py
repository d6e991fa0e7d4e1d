"""Who may post, see and pin announcements. Object checks and list filters together.

An offering's instructors (not its assistants) and admins post and pin; everyone who may open the
offering reads what is published; its staff also see what is scheduled for later.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from lms.auth.models import Role, User
from lms.catalog import permissions as catalog
from lms.catalog.models import Offering, StaffRole
from lms.community.models import Announcement


def can_post_announcement(user: User, offering: Offering) -> bool:
    if not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or catalog.staff_role(user, offering) == StaffRole.INSTRUCTOR


def sees_scheduled(user: User, offering: Offering) -> bool:
    return catalog.oversees_all(user) or catalog.staff_role(user, offering) is not None


def can_view_announcement(user: User, announcement: Announcement, now: datetime) -> bool:
    offering = announcement.offering
    if not catalog.can_view_offering(user, offering):
        return False
    return announcement.published(now) or sees_scheduled(user, offering)


def visible_announcements(user: User, offering_ids: Select | list[int], now: datetime, *,
                          scheduled_too: bool = False) -> Select:
    """Announcements of the given offerings the user may read; `scheduled_too` for their staff."""
    query = select(Announcement).where(Announcement.offering_id.in_(offering_ids))
    return query if scheduled_too else query.where(Announcement.publish_at <= now)
