"""Locale and time zone selection, and template helpers for bilingual content and dates."""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from flask_login import current_user


def select_locale() -> str | None:
    """The account's language, else the header switcher's choice (kept in the session, so visitors
    who are not logged in can switch too), else the browser's Accept-Language."""
    if not has_request_context():  # CLI commands and jobs speak the default language
        return None
    if not g.get("database_unavailable") and current_user and current_user.is_authenticated \
            and current_user.locale:  # during an outage the account cannot be read
        return current_user.locale
    languages = current_app.config["LANGUAGES"]
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages)


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def translations():
    """This context's gettext catalogue, looked up once per locale and app context. Flask-Babel's
    own lookup walks `g` three times per string (about 10 us), and a page holds 50-100 strings.
    Keyed on the locale object, so force_locale (mail in its recipient's language) still switches."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return get_translations()
    store = ctx.g.__dict__
    babel_ctx = store.get("_flask_babel")
    locale = getattr(babel_ctx, "babel_locale", None)
    cached = store.get("_lms_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    found = get_translations()
    store["_lms_translations"] = (get_locale(), found)
    return found


def install_fast_gettext(app: Flask) -> None:
    """The template gettext callables Flask-Babel installs, on the catalogue looked up once."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)


# Each language named in itself (endonyms), so a reader finds theirs whatever the page is in.
LANGUAGE_NAMES = {"en": "English", "ja": "日本語", "uz": "Oʻzbekcha", "ru": "Русский"}

DEADLINE_ZONES = (("Asia/Tashkent", "Tashkent"), ("Asia/Tokyo", "Tokyo"))


def in_zones(moment) -> list[tuple[str, str]]:
    """A UTC moment as JDU students (Tashkent) and partner staff (Tokyo) read it."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime as babel_format
    from flask_babel import gettext as _

    labels = {"Tashkent": _("Tashkent"), "Tokyo": _("Tokyo")}
    return [(labels[label], babel_format(moment, "medium", tzinfo=ZoneInfo(zone), locale=get_locale()))
            for zone, label in DEADLINE_ZONES]


def register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_datetime

    @app.template_filter("localized")
    def localized_title(obj) -> str:
        return obj.title_for(current_language())

    @app.template_filter("name")
    def localized_name(obj) -> str:
        if current_language() == "ja" and getattr(obj, "name_ja", None):
            return obj.name_ja
        return obj.name_en

    from babel.numbers import parse_pattern

    credit_pattern = parse_pattern("#,##0.##")  # parsed once: a record page shows dozens of figures

    @app.template_filter("credits")
    def credits(value) -> str:
        """Credit figures as people write them: 240, 4.5 (not 240.00), in the reader's locale."""
        return credit_pattern.apply(value, get_locale() or "en")

    app.jinja_env.globals.update(format_date=format_date, format_datetime=format_datetime,
                                 current_language=current_language, in_zones=in_zones,
                                 language_names=LANGUAGE_NAMES)
