"""Derivations of the dual-degree record: boundaries, monotonicity, rounding, recognised credits."""
import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.records.derive import (BY_DEGREE_TOTALS, BY_WORKLOAD, JASSO_3, RECOGNISED_CAP, STANDARD_4,
                                CreditConversion, ResultLine, UzbekScale, figures, sum_up, totals)

UZ = UzbekScale()
scores = st.decimals(min_value=0, max_value=100, places=2)
credits = st.sampled_from([Decimal(c) for c in ("0.5", "1", "1.5", "2", "3", "4", "6", "8")])


@pytest.mark.parametrize("raw, letter, uz", [
    ("59.99", "F", 2), ("60", "C", 3), ("69.99", "C", 3), ("70", "B", 4), ("79.99", "B", 4), ("80", "A", 4),
    ("89.99", "A", 4), ("90", "S", 5), ("100", "S", 5), ("0", "F", 2)])
def test_boundaries(raw, letter, uz):
    assert STANDARD_4.letter(Decimal(raw)) == letter
    assert UZ.grade(Decimal(raw)) == uz


def test_jasso_and_standard_points():
    assert [STANDARD_4.gpa_points(x) for x in "SABCF"] == [4, 3, 2, 1, 0]
    assert [JASSO_3.gpa_points(x) for x in "SABCF"] == [3, 3, 2, 1, 0]


@given(scores, scores)
def test_more_score_never_means_a_worse_grade(a, b):
    low, high = min(a, b), max(a, b)
    for scheme in (STANDARD_4, JASSO_3):
        assert scheme.gpa_points(scheme.letter(low)) <= scheme.gpa_points(scheme.letter(high))
    assert UZ.grade(low) <= UZ.grade(high)


@given(credits, st.sampled_from([BY_WORKLOAD, BY_DEGREE_TOTALS,
                                 CreditConversion("up", 1, Decimal("1.5"), Decimal(1), "up"),
                                 CreditConversion("down", 1, Decimal("1.94"), Decimal(1), "down")]))
def test_conversion_rounds_to_its_step(ja, conversion):
    uz = conversion.convert(ja)
    exact = ja * conversion.factor
    assert uz % conversion.step == 0
    if conversion.mode == "half_up":
        assert abs(uz - exact) <= conversion.step / 2
    elif conversion.mode == "up":
        assert exact <= uz < exact + conversion.step
    else:
        assert exact - conversion.step < uz <= exact


def test_known_conversions():
    assert BY_WORKLOAD.convert(Decimal(2)) == 3
    assert BY_DEGREE_TOTALS.convert(Decimal(2)) == Decimal("4.0")  # 3.87 -> 4.0 at half-credit steps
    assert BY_DEGREE_TOTALS.convert(Decimal(124)) == 240


@given(st.lists(st.tuples(credits, scores), min_size=1, max_size=12), st.lists(credits, max_size=6))
def test_recognised_credits_count_but_stay_out_of_the_gpa(graded, recognised):
    lines = [ResultLine(c, r) for c, r in graded]
    with_recognised = lines + [ResultLine(c, None, recognised=True) for c in recognised]
    plain = totals(lines, STANDARD_4, UZ, BY_WORKLOAD)
    more = totals(with_recognised, STANDARD_4, UZ, BY_WORKLOAD)
    assert more.ja_gpa == plain.ja_gpa and more.uz_average == plain.uz_average
    assert more.ja_credits == plain.ja_credits + min(sum(recognised, Decimal(0)), RECOGNISED_CAP)


def test_recognised_credits_total_is_the_sum_of_their_lines():
    """The 60-credit cap is checked when they are approved, so totals never differ from the lines."""
    lines = [ResultLine(Decimal(1), None, recognised=True)] * 3
    result = totals(lines, STANDARD_4, UZ, BY_WORKLOAD)
    assert result.ja_recognised == 3 and result.ja_credits == 3 and result.ja_gpa is None
    assert result.uz_recognised == result.uz_credits == 3 * BY_WORKLOAD.convert(Decimal(1))  # 1.5 each, not 4.5 rounded once


def test_a_rule_may_leave_recognised_credits_out_of_the_uzbek_degree():
    rule = dataclasses.replace(BY_WORKLOAD, recognised_factor=None)
    result = totals([ResultLine(Decimal(2), None, recognised=True)], STANDARD_4, UZ, rule)
    assert result.ja_credits == 2 and result.uz_credits == 0


def test_gpa_is_kept_per_scale_and_never_mixed():
    """S is 4 points on a 4-point scale and 3 on JASSO's: averaging them (3.50) would mean nothing."""
    four = [figures(ResultLine(Decimal(2), Decimal(95)), STANDARD_4, UZ, BY_WORKLOAD)]
    three = [figures(ResultLine(Decimal(2), Decimal(95)), JASSO_3, UZ, BY_WORKLOAD)]
    result = sum_up(four + three)
    assert [(g.scale, g.gpa) for g in result.ja_gpas] == [(Decimal(4), Decimal("4.00")), (Decimal(3), Decimal("3.00"))]
    assert Decimal("3.50") not in {g.gpa for g in result.ja_gpas}


def test_a_small_record_by_hand():
    lines = [ResultLine(Decimal(2), Decimal("95"), course="GD101"),   # S 4.0 / 5
             ResultLine(Decimal(2), Decimal("72.5"), course="ART120"),  # B 2.0 / 4
             ResultLine(Decimal(1), Decimal("40"), course="JP101")]    # F 0.0 / 2, no credit
    result = totals(lines, STANDARD_4, UZ, BY_WORKLOAD)
    assert result.ja_credits == 4 and result.failed == ["JP101"]
    assert result.ja_gpa == Decimal("2.40")  # (4*2 + 2*2 + 0*1) / 5
    assert result.uz_credits == 6  # 3 + 3; the failed course converts to nothing
    assert result.uz_average == Decimal("4.00")  # (5*2 + 4*2 + 2*1) / 5
    assert result.uz_score == Decimal("75.00")  # (95*2 + 72.5*2 + 40) / 5
