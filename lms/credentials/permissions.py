"""Who may list, download and revoke issued credentials. Verifying one needs no permission at all:
anyone holding a credential may check it on /verify."""
from __future__ import annotations

from sqlalchemy import Select, select

from lms.auth.models import User
from lms.catalog.permissions import oversees_all
from lms.credentials.models import IssuedCredential


def can_list_credentials(user: User, student: User) -> bool:
    """Registrars and admins any student's; a student their own."""
    return oversees_all(user) or (user.is_authenticated and user.id == student.id)


def can_download(user: User, credential: IssuedCredential) -> bool:
    """The credential's student, registrars and admins."""
    return oversees_all(user) or (user.is_authenticated and user.id == credential.student_id)


def can_revoke(user: User, credential: IssuedCredential | None = None) -> bool:
    """Registrars and admins only; a student cannot withdraw (or hide) their own credential."""
    return oversees_all(user)


def visible_credentials(user: User) -> Select:
    query = select(IssuedCredential)
    if oversees_all(user):
        return query
    return query.where(IssuedCredential.student_id == (user.id if user.is_authenticated else None))
