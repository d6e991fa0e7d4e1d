"""The header's main navigation: the same links for everyone of a role, so it is built once per
role, language and mount point and reused (building it took ~15 url_for and gettext calls a page)."""
from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

# (endpoint, url arguments, label, roles that see it), in the order shown.
LINKS = (
    ("catalog.home", {}, _l("My courses"), None),
    ("records.me", {}, _l("My record"), {"student"}),
    ("portfolio.edit", {}, _l("My portfolio"), {"student"}),
    ("authoring.courses", {}, _l("Course authoring"), {"instructor", "admin"}),
    ("people.students", {}, _l("Students"), {"registrar", "admin"}),
    ("people.offerings", {}, _l("Offerings"), {"registrar", "admin"}),
    ("admin.reference_list", {"kind": "programs"}, _l("Programs"), {"registrar", "admin"}),
    ("admin.reference_list", {"kind": "terms"}, _l("Terms"), {"registrar", "admin"}),
    ("records.cohort_view", {}, _l("Records"), {"registrar", "admin"}),
    ("portfolio.registry", {}, _l("Public portfolios"), {"registrar", "admin"}),
    ("admin.users", {}, _l("Users"), {"admin"}),
    ("admin.reference_list", {"kind": "partners"}, _l("Partners"), {"admin"}),
    ("admin.system_health", {}, _l("System health"), {"admin"}),
)

_built: dict[tuple[str, str, str], Markup] = {}


def main_nav(role: str) -> Markup:
    from lms.i18n import current_language

    key = (str(role), current_language(), request.script_root)
    nav = _built.get(key)
    if nav is None:
        nav = _built[key] = Markup("\n    ").join(
            Markup('<a href="{}">{}</a>').format(url_for(endpoint, **args), str(label))
            for endpoint, args, label, roles in LINKS if roles is None or role in roles)
    return nav


def register(app: Flask) -> None:
    app.jinja_env.globals["main_nav"] = main_nav
