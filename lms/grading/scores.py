"""The score rules: exact decimals with two places, 0–100, and how a late penalty applies."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from lms.errors import DomainError

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
SCORE_RE = re.compile(r"^\d{1,3}(?:[.,]\d{1,2})?$")


class ScoreInvalid(DomainError):
    pass


def parse_score(value: str | Decimal | int, what: str | None = None) -> Decimal:
    """'87.5' → Decimal('87.50'). A comma also separates decimals. Raises ScoreInvalid unless the
    value is 0–100 with at most two decimals (so 100.001, -1, 1e2 and NaN are refused)."""
    text = str(value).strip().replace(",", ".")
    if not SCORE_RE.match(text) or Decimal(text) > HUNDRED:
        raise ScoreInvalid(_("%(what)s must be a number from 0 to 100 with at most two decimals.",
                             what=what or _("The score")))
    return Decimal(text).quantize(CENT, ROUND_HALF_UP)


def as_text(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


def apply_penalty(raw: Decimal, penalty: Decimal, floor: Decimal) -> Decimal:
    """The final score: raw × (1 − penalty/100), rounded half-up to 0.01.

    The floor limits what a late penalty may take away: when a penalty applies, the result is never
    below the assignment's floor_percent, but the floor never lifts a score above what was earned
    (raw 40 with a floor of 50 stays 40). With no penalty the raw score stands as it is.
    """
    if not penalty:
        return Decimal(raw).quantize(CENT, ROUND_HALF_UP)
    penalised = (raw * (HUNDRED - penalty) / HUNDRED).quantize(CENT, ROUND_HALF_UP)
    return max(penalised, min(Decimal(raw), Decimal(floor)).quantize(CENT, ROUND_HALF_UP))
