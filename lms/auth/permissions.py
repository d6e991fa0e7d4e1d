"""Role checks shared by views and templates."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from lms.auth.models import Role, User


def roles_required(*roles: Role) -> Callable:
    """Decorate a view: anonymous users go to the login page, other roles get 403."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def is_registrar(user: User) -> bool:
    """Registrar duties are open to admins too."""
    return user.is_authenticated and user.role in (Role.REGISTRAR, Role.ADMIN)


def can_author(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.ADMIN)
