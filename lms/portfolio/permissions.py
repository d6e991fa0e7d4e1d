"""Who may edit a portfolio and see the list of public ones. Viewers of a public link need no
account: the link's token is checked in lms/portfolio/services.open_link."""
from __future__ import annotations

from lms.auth.models import Role, User


def owns(user: User, obj) -> bool:
    """A piece or a link belongs to the student whose portfolio holds it."""
    portfolio = getattr(obj, "portfolio", None)
    return user.is_authenticated and portfolio is not None and portfolio.student_id == user.id


def can_list_public(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.REGISTRAR, Role.ADMIN)
