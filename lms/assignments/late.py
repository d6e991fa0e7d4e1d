"""Late-policy arithmetic, kept pure so its boundaries are easy to test.

Rules: the grace period extends the due date; after it, every started day (or hour) counts in full,
as in Canvas; the penalty is `units × penalty_percent`, capped at `max_penalty_percent`. The floor
(the score never drops below it because of lateness) is applied when the grade is computed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

UNIT_SECONDS = {"day": 86_400, "hour": 3_600}


@dataclass(frozen=True)
class LatePolicy:
    grace_minutes: int = 0
    penalty_percent: Decimal = Decimal(0)
    unit: str = "day"
    max_penalty_percent: Decimal = Decimal(100)

    @classmethod
    def of(cls, assignment) -> LatePolicy:
        return cls(assignment.grace_minutes, Decimal(assignment.penalty_percent),
                   str(assignment.penalty_unit), Decimal(assignment.max_penalty_percent))


def late_seconds(submitted_at: datetime, due_at: datetime) -> int:
    """Whole seconds after the due date; 0 when on time."""
    return max(0, math.ceil((submitted_at - due_at).total_seconds()))


def units_late(seconds_late: int, policy: LatePolicy) -> int:
    beyond_grace = seconds_late - policy.grace_minutes * 60
    if beyond_grace <= 0:
        return 0
    return math.ceil(beyond_grace / UNIT_SECONDS[policy.unit])


def penalty_percent(seconds_late: int, policy: LatePolicy) -> Decimal:
    units = units_late(seconds_late, policy)
    return min(policy.penalty_percent * units, policy.max_penalty_percent).quantize(Decimal("0.01"), ROUND_HALF_UP)


def describe_lateness(seconds_late: int) -> tuple[int, int, int]:
    """(days, hours, minutes) for showing 'late by …'; seconds round up to the next minute."""
    minutes_total = math.ceil(seconds_late / 60)
    days, rest = divmod(minutes_total, 1440)
    hours, minutes = divmod(rest, 60)
    return days, hours, minutes
