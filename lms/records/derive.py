"""Every figure of the dual-degree record, derived from a stored raw score through a scheme.

Pure functions over frozen scheme values, so each figure can be recomputed and defended: a result
records which scheme version it used, and these functions turn (raw score, scheme) into the figure.
All arithmetic is Decimal; rounding is half-up, as registrars do it by hand.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

HUNDREDTH = Decimal("0.01")
RECOGNISED_CAP = Decimal(60)  # credits from elsewhere that may count toward the 124 (checked on approval)


@dataclass(frozen=True)
class JapaneseScheme:
    """A partner university's letter bands and GPA points (one version of them)."""

    name: str
    version: int
    bands: tuple[tuple[Decimal, str], ...]  # (lowest raw score, letter), highest first
    points: tuple[tuple[str, Decimal], ...]  # letter -> GPA points
    passing: frozenset[str] = frozenset({"S", "A", "B", "C"})

    def letter(self, raw: Decimal) -> str:
        for lowest, letter in self.bands:
            if raw >= lowest:
                return letter
        return self.bands[-1][1]

    def gpa_points(self, letter: str) -> Decimal:
        return dict(self.points)[letter]

    @property
    def scale(self) -> Decimal:
        """The top of the GPA scale (4, 4.3, 4.5, JASSO's 3): GPAs on different scales never mix."""
        return max(points for _letter, points in self.points)


STANDARD_BANDS = ((Decimal(90), "S"), (Decimal(80), "A"), (Decimal(70), "B"), (Decimal(60), "C"), (Decimal(0), "F"))
STANDARD_4 = JapaneseScheme("Standard 4-point", 1, STANDARD_BANDS,
                            (("S", Decimal(4)), ("A", Decimal(3)), ("B", Decimal(2)), ("C", Decimal(1)), ("F", Decimal(0))))
JASSO_3 = JapaneseScheme("JASSO 3-point", 1, STANDARD_BANDS,
                         (("S", Decimal(3)), ("A", Decimal(3)), ("B", Decimal(2)), ("C", Decimal(1)), ("F", Decimal(0))))


@dataclass(frozen=True)
class UzbekScale:
    """The 5-point grade from the 100-point score (5 >= 90, 4 >= 70, 3 >= 60, 2 below)."""

    version: int = 1
    bands: tuple[tuple[Decimal, int], ...] = ((Decimal(90), 5), (Decimal(70), 4), (Decimal(60), 3), (Decimal(0), 2))

    def grade(self, raw: Decimal) -> int:
        return next((grade for lowest, grade in self.bands if raw >= lowest), self.bands[-1][1])

    def passed(self, raw: Decimal) -> bool:
        return self.grade(raw) >= 3


@dataclass(frozen=True)
class CreditConversion:
    """Japanese credits to Uzbek credits for a program: a factor, a rounding step and its provenance."""

    name: str
    version: int
    factor: Decimal
    step: Decimal = Decimal("0.5")  # round to a multiple of this
    mode: str = "half_up"  # half_up | up | down
    source: str = ""
    # 認定 toward the Uzbek degree: converted with this factor (None: they do not count toward it)
    recognised_factor: Decimal | None = None

    def convert(self, ja_credits: Decimal, factor: Decimal | None = None) -> Decimal:
        units = Decimal(ja_credits) * (self.factor if factor is None else factor) / self.step
        rounding = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}[self.mode]
        return units.quantize(Decimal(1), rounding=rounding) * self.step

    def convert_recognised(self, ja_credits: Decimal) -> Decimal:
        """Uzbek credits of one recognised (認定) line; 0 when the rule does not count them."""
        return Decimal(0) if self.recognised_factor is None else self.convert(ja_credits, self.recognised_factor)


BY_WORKLOAD = CreditConversion("By workload (45 h / 30 h)", 1, Decimal("1.5"), source="JDU academic council",
                               recognised_factor=Decimal("1.5"))
BY_DEGREE_TOTALS = CreditConversion("By degree totals (240 / 124)", 1, Decimal(240) / Decimal(124),
                                    source="Degree totals of the two programmes",
                                    recognised_factor=Decimal(240) / Decimal(124))


@dataclass(frozen=True)
class ResultLine:
    """One course result as the record sees it."""

    ja_credits: Decimal
    raw: Decimal | None  # None for recognised credits without a score
    recognised: bool = False  # 認定: counts toward the degree, never toward the GPA
    term: str = ""
    course: str = ""


@dataclass(frozen=True)
class ScaleGpa:
    """A GPA over the courses graded on one scale (its top points), with the credits it covers."""

    scale: Decimal
    gpa: Decimal
    credits: Decimal


@dataclass
class Totals:
    ja_credits: Decimal = Decimal(0)
    ja_recognised: Decimal = Decimal(0)
    ja_gpas: list[ScaleGpa] = field(default_factory=list)  # one per scale, most credits first
    uz_credits: Decimal = Decimal(0)
    uz_recognised: Decimal = Decimal(0)
    uz_average: Decimal | None = None  # credit-weighted 5-point grade
    uz_score: Decimal | None = None  # credit-weighted 100-point score
    failed: list[str] = field(default_factory=list)

    @property
    def ja_gpa(self) -> Decimal | None:
        """The GPA of the scale covering most credits (what a cohort sorts by); see ja_gpas for all."""
        return self.ja_gpas[0].gpa if self.ja_gpas else None


def weighted_mean(pairs: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Σ value×weight / Σ weight, to two decimals; None without weight."""
    pairs = list(pairs)
    weight = sum((w for _, w in pairs), Decimal(0))
    if not weight:
        return None
    return (sum((v * w for v, w in pairs), Decimal(0)) / weight).quantize(HUNDREDTH, ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """One result's derived figures, each already computed with the scheme that applies to it."""

    course: str
    ja_credits: Decimal
    raw: Decimal | None
    recognised: bool
    ja_passed: bool = False
    gpa_points: Decimal | None = None
    uz_credits: Decimal = Decimal(0)
    uz_grade: int | None = None
    gpa_scale: Decimal | None = None


def figures(line: ResultLine, ja: JapaneseScheme, uz: UzbekScale, conversion: CreditConversion) -> Figures:
    if line.recognised or line.raw is None:
        return Figures(line.course, line.ja_credits, None, True, uz_credits=conversion.convert_recognised(line.ja_credits))
    letter = ja.letter(line.raw)
    return Figures(line.course, line.ja_credits, line.raw, False, letter in ja.passing, ja.gpa_points(letter),
                   conversion.convert(line.ja_credits) if uz.passed(line.raw) else Decimal(0), uz.grade(line.raw),
                   ja.scale)


def gpas_per_scale(graded: list[Figures]) -> list[ScaleGpa]:
    """A GPA for each scale the courses were graded on: S is 4 points on one and 3 on another, so
    averaging them together would mean nothing."""
    out = []
    for scale in {x.gpa_scale for x in graded}:
        same = [x for x in graded if x.gpa_scale == scale]
        gpa = weighted_mean((x.gpa_points, x.ja_credits) for x in same)
        if gpa is not None:
            out.append(ScaleGpa(scale, gpa, sum((x.ja_credits for x in same), Decimal(0))))
    return sorted(out, key=lambda g: (-g.credits, -g.scale))


def sum_up(items: Iterable[Figures]) -> Totals:
    """Credits earned and averages in both systems, each total the sum of its lines' figures.
    Failed courses count in the averages and earn nothing; recognised credits count toward the
    degrees (their Uzbek credits as their lines show them) and never toward averages."""
    items = list(items)
    graded = [x for x in items if not x.recognised]
    out = Totals()
    out.ja_recognised = sum((x.ja_credits for x in items if x.recognised), Decimal(0))
    out.ja_credits = sum((x.ja_credits for x in graded if x.ja_passed), Decimal(0)) + out.ja_recognised
    out.ja_gpas = gpas_per_scale(graded)
    out.uz_recognised = sum((x.uz_credits for x in items if x.recognised), Decimal(0))
    out.uz_credits = sum((x.uz_credits for x in graded), Decimal(0)) + out.uz_recognised
    out.uz_average = weighted_mean((Decimal(x.uz_grade), x.ja_credits) for x in graded)
    out.uz_score = weighted_mean((x.raw, x.ja_credits) for x in graded)
    out.failed = [x.course for x in graded if not x.ja_passed]
    return out


def totals(lines: Iterable[ResultLine], ja: JapaneseScheme, uz: UzbekScale, conversion: CreditConversion) -> Totals:
    return sum_up(figures(line, ja, uz, conversion) for line in lines)
