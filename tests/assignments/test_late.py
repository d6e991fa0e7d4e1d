"""Late-policy arithmetic at its boundaries."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lms.assignments.late import LatePolicy, describe_lateness, late_seconds, penalty_percent

DUE = datetime(2026, 12, 1, 18, 59, tzinfo=UTC)  # 23:59 in Tashkent
DAILY = LatePolicy(grace_minutes=10, penalty_percent=Decimal(10), unit="day", max_penalty_percent=Decimal(30))
HOURLY = LatePolicy(grace_minutes=0, penalty_percent=Decimal("2.5"), unit="hour", max_penalty_percent=Decimal(100))


@pytest.mark.parametrize("after, seconds", [
    (timedelta(seconds=-1), 0), (timedelta(0), 0), (timedelta(milliseconds=1), 1), (timedelta(seconds=61), 61)])
def test_late_seconds(after, seconds):
    assert late_seconds(DUE + after, DUE) == seconds


@pytest.mark.parametrize("late, expected", [
    (0, "0.00"),
    (10 * 60, "0.00"),                   # the last second of grace
    (10 * 60 + 1, "10.00"),              # one second past grace: a started day counts in full
    (10 * 60 + 86_400, "10.00"),         # exactly one day past grace
    (10 * 60 + 86_401, "20.00"),
    (10 * 60 + 2 * 86_400 + 1, "30.00"),
    (30 * 86_400, "30.00"),              # capped at the maximum
])
def test_daily_penalty_with_grace_and_cap(late, expected):
    assert penalty_percent(late, DAILY) == Decimal(expected)


@pytest.mark.parametrize("late, expected", [(1, "2.50"), (3600, "2.50"), (3601, "5.00"), (40 * 3600, "100.00"),
                                            (41 * 3600, "100.00")])
def test_hourly_penalty(late, expected):
    assert penalty_percent(late, HOURLY) == Decimal(expected)


def test_no_penalty_policy():
    assert penalty_percent(10**6, LatePolicy()) == Decimal("0.00")


def test_describe_lateness_rounds_up_to_minutes():
    assert describe_lateness(1) == (0, 0, 1)
    assert describe_lateness(86_400 + 3_600 + 60) == (1, 1, 1)
