"""Scheme and rule rows as the pure values derive.py computes with, and the versions in force."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from lms.extensions import db
from lms.records import derive
from lms.records.models import CreditRule, JapaneseGradeScheme


def scheme_value(row: JapaneseGradeScheme | None) -> derive.JapaneseScheme:
    if row is None:
        return derive.STANDARD_4
    return derive.JapaneseScheme(
        name=row.name, version=row.version,
        bands=tuple((Decimal(str(low)), letter) for low, letter in row.bands),
        points=tuple((letter, Decimal(str(points))) for letter, points in row.points.items()),
        passing=frozenset(row.passing))


def rule_value(row: CreditRule | None) -> derive.CreditConversion:
    if row is None:
        return derive.BY_WORKLOAD
    return derive.CreditConversion(
        name=row.name, version=row.version, factor=Decimal(row.factor), step=Decimal(row.step), mode=row.mode,
        source=row.source, recognised_factor=None if row.recognised_factor is None else Decimal(row.recognised_factor))


def current_scheme(partner_id: int | None) -> JapaneseGradeScheme | None:
    if partner_id is None:
        return None
    return db.session.scalar(select(JapaneseGradeScheme).where(JapaneseGradeScheme.partner_id == partner_id)
                             .order_by(JapaneseGradeScheme.version.desc()).limit(1))


def current_rule(program_id: int | None) -> CreditRule | None:
    if program_id is None:
        return None
    return db.session.scalar(select(CreditRule).where(CreditRule.program_id == program_id)
                             .order_by(CreditRule.version.desc()).limit(1))


def latest_schemes() -> dict[int, JapaneseGradeScheme]:
    """Partner id → its newest scheme version, in one query."""
    out: dict[int, JapaneseGradeScheme] = {}
    for row in db.session.scalars(select(JapaneseGradeScheme).order_by(JapaneseGradeScheme.version)):
        out[row.partner_id] = row
    return out


def scheme_label(scheme: derive.JapaneseScheme) -> str:
    return f"{scheme.name} v{scheme.version}"


def rule_label(rule: derive.CreditConversion) -> str:
    return f"{rule.name} v{rule.version} ×{rule.factor.normalize()}" + (f", {rule.source}" if rule.source else "")
