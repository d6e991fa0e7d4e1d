"""A finalized result is a snapshot: everything its figures come from, copied when it is finalized.

The course's code, titles and credits, the term and where it sits in both calendars, the partner,
which versions of the Japanese grade scheme, the credit rule and the Uzbek scale were used (with
their names, as shown), and the figures derived then. A finalized result shows only what its
snapshot says, so editing a course's credits, a term's dates or adding a scheme version later
changes nothing on it. A correction is an amendment, whose score is derived with the same scheme and
rule versions: their rows can no longer change once a finalized result points at them (database
triggers, lms/records/triggers.py), so the ids are as good as a copy of their values, and every
snapshot stays small (a cohort's records read 24,000 of them).

Decimals are kept as strings (JSON has no exact decimal). `VERSION` names this shape.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from lms.records import derive, terms
from lms.records.versions import rule_label, rule_value, scheme_label, scheme_value

VERSION = 1
UZBEK_SCALE = derive.UzbekScale()


def scheme_dict(scheme: derive.JapaneseScheme, row_id: int | None) -> dict:
    return {"id": row_id, "label": scheme_label(scheme)}


def rule_dict(rule: derive.CreditConversion, row_id: int | None) -> dict:
    return {"id": row_id, "label": rule_label(rule)}


def figures_dict(raw: Decimal, scheme: derive.JapaneseScheme, rule: derive.CreditConversion,
                 ja_credits: Decimal) -> dict:
    fig = derive.figures(derive.ResultLine(ja_credits, raw), scheme, UZBEK_SCALE, rule)
    letter = scheme.letter(raw)
    return {"raw": str(raw), "letter": letter, "gpa_points": str(fig.gpa_points), "gpa_scale": str(fig.gpa_scale),
            "ja_passed": fig.ja_passed, "uz_grade": fig.uz_grade, "uz_credits": str(fig.uz_credits)}


def freeze(result, scheme_row, rule_row) -> dict:
    """The snapshot of `result` (a FinalResult with its offering loaded) with these scheme and rule rows."""
    course, term = result.offering.course, result.offering.term
    partner = course.partner
    calendar = terms.of_term(term)
    scheme, rule = scheme_value(scheme_row), rule_value(rule_row)
    return {
        "v": VERSION,
        "course": {"code": course.code, "title_en": course.title_en, "title_ja": course.title_ja,
                   "credits": str(Decimal(course.credits)), "skills": list(course.skills or [])},
        "partner": None if partner is None else {"code": partner.code, "name_en": partner.name_en,
                                                  "name_ja": partner.name_ja},
        "term": {"code": term.code, "name": term.name, "starts_on": term.starts_on.isoformat(),
                 "ends_on": term.ends_on.isoformat(), "ja_year": calendar.ja_year,
                 "ja_semester": calendar.ja_semester, "uz_year": calendar.uz_year,
                 "uz_semester": calendar.uz_semester},
        "ja_scheme": scheme_dict(scheme, getattr(scheme_row, "id", None)),
        "credit_rule": rule_dict(rule, getattr(rule_row, "id", None)),
        "uz_scale": UZBEK_SCALE.version,
        "figures": figures_dict(Decimal(result.raw_score), scheme, rule, Decimal(course.credits)),
    }


def term_dates(frozen: dict) -> tuple[date, date]:
    t = frozen["term"]
    return date.fromisoformat(t["starts_on"]), date.fromisoformat(t["ends_on"])


def uz_scale_of(frozen: dict) -> derive.UzbekScale:
    if frozen["uz_scale"] != UZBEK_SCALE.version:
        raise ValueError(f"unknown Uzbek scale version {frozen['uz_scale']!r}")
    return UZBEK_SCALE
