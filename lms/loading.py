"""Load an object for a view and check access in one call, so no view forgets the check."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import abort
from flask_login import current_user

from lms.extensions import db

T = TypeVar("T")


def load_or_404(model: type[T], object_id: int, check: Callable[..., bool] | None = None,
                *check_args, options: Sequence = ()) -> T:
    """404 when missing; 403 when `check(current_user, obj, *check_args)` is false. `options` are
    loader options (the relationships the page shows, loaded in the same statement)."""
    obj = db.session.get(model, object_id, options=options)
    if obj is None:
        abort(404)
    if check is not None and not check(current_user, obj, *check_args):
        abort(403)
    return obj
