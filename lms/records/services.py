"""The academic record's operations: scheme versions, submitting, finalizing and amending results.

Services flush; the view commits. Each raises a DomainError (the caller's mistake) with a message
for the user; the database triggers stay the last line of defence behind these checks.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.auth.models import User
from lms.catalog.models import Enrollment, Offering, PartnerUniversity, Program
from lms.db import utcnow
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.records import derive, snapshot
from lms.records.models import (CreditRule, FinalResult, JapaneseGradeScheme, RecognisedCredit, ResultAmendment,
                                ResultState)
from lms.records.record import effective_raw
from lms.records.versions import current_rule, current_scheme, rule_value

ROUNDING_MODES = ("half_up", "up", "down")
HUNDREDTH = Decimal("0.01")


# --- schemes ---------------------------------------------------------------------------------------

def _points(scheme: derive.JapaneseScheme) -> dict[str, str]:
    return {letter: str(points) for letter, points in scheme.points}


def _bands(scheme: derive.JapaneseScheme) -> list[list[str]]:
    return [[str(low), letter] for low, letter in scheme.bands]


def ensure_default_schemes(actor_id: int | None = None, jasso_partner_codes: tuple[str, ...] = ()) -> int:
    """Give every partner without a scheme a v1 (Standard 4-point, or JASSO 3-point for the listed
    codes) and every program without a rule a v1 "by workload" rule. Returns how many were made."""
    made = 0
    have_scheme = set(db.session.scalars(select(JapaneseGradeScheme.partner_id)))
    for partner in db.session.scalars(select(PartnerUniversity).order_by(PartnerUniversity.id)):
        if partner.id in have_scheme:
            continue
        base = derive.JASSO_3 if partner.code in jasso_partner_codes else derive.STANDARD_4
        db.session.add(JapaneseGradeScheme(partner_id=partner.id, version=1, name=base.name, bands=_bands(base),
                                           points=_points(base), passing=sorted(base.passing),
                                           created_by_id=actor_id))
        made += 1
    have_rule = set(db.session.scalars(select(CreditRule.program_id)))
    for program in db.session.scalars(select(Program).order_by(Program.id)):
        if program.id in have_rule:
            continue
        rule = derive.BY_WORKLOAD
        db.session.add(CreditRule(program_id=program.id, version=1, name=rule.name, factor=rule.factor,
                                  step=rule.step, mode=rule.mode, source=rule.source,
                                  recognised_factor=rule.recognised_factor, created_by_id=actor_id))
        made += 1
    db.session.flush()
    return made


@dataclass(frozen=True)
class SchemeInput:
    name: str
    bands: list[tuple[Decimal, str]]  # highest first
    points: dict[str, Decimal]
    passing: list[str]


def parse_scheme(name: str, bands_text: str, points_text: str, passing_text: str) -> SchemeInput:
    """Read the scheme form's text ("90 S" per line, "S 4" per line, "S A B C"). Raises DomainError
    naming the first problem: bands must descend strictly and end at 0, every letter needs points,
    passing letters must be letters of the bands."""
    bands = []
    for line in filter(None, (x.strip() for x in bands_text.splitlines())):
        parts = line.split()
        if len(parts) != 2:
            raise DomainError(_("Each band is a lowest score and a letter, e.g. “90 S”: %(line)s", line=line))
        bands.append((_decimal(parts[0], _("band")), parts[1]))
    if not bands:
        raise DomainError(_("Give at least one band."))
    lows = [low for low, _letter in bands]
    if any(not Decimal(0) <= low <= Decimal(100) for low in lows):
        raise DomainError(_("Band scores must be between 0 and 100."))
    if any(a <= b for a, b in zip(lows, lows[1:])):
        raise DomainError(_("Bands must go from the highest score down, each lower than the one before."))
    if lows[-1] != 0:
        raise DomainError(_("The last band must start at 0, so every score has a letter."))
    letters = [letter for _low, letter in bands]
    if len(set(letters)) != len(letters):
        raise DomainError(_("Each letter may appear in one band only."))
    points = {}
    for line in filter(None, (x.strip() for x in points_text.splitlines())):
        parts = line.split()
        if len(parts) != 2:
            raise DomainError(_("Each GPA line is a letter and its points, e.g. “S 4”: %(line)s", line=line))
        points[parts[0]] = _decimal(parts[1], _("points"))
    missing = [x for x in letters if x not in points]
    if missing:
        raise DomainError(_("GPA points are missing for: %(letters)s", letters=", ".join(missing)))
    extra = [x for x in points if x not in letters]
    if extra:
        raise DomainError(_("GPA points for letters without a band: %(letters)s", letters=", ".join(extra)))
    if any(not Decimal(0) <= p <= Decimal(10) for p in points.values()):
        raise DomainError(_("GPA points must be between 0 and 10."))
    passing = passing_text.replace(",", " ").split()
    if not passing or any(x not in letters for x in passing):
        raise DomainError(_("Passing letters must be letters of the bands."))
    name = name.strip()
    if not name:
        raise DomainError(_("Give the scheme a name."))
    return SchemeInput(name, bands, points, passing)


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(_("%(what)s is not a number: %(text)s", what=what, text=text))
    if not value.is_finite():
        raise DomainError(_("%(what)s is not a number: %(text)s", what=what, text=text))
    return value


def new_scheme_version(partner_id: int, scheme: SchemeInput, actor_id: int) -> JapaneseGradeScheme:
    """Add the next version of a partner's scheme; earlier versions are never edited."""
    latest = db.session.scalar(select(func.max(JapaneseGradeScheme.version))
                               .where(JapaneseGradeScheme.partner_id == partner_id)) or 0
    row = JapaneseGradeScheme(partner_id=partner_id, version=latest + 1, name=scheme.name,
                              bands=[[str(low), letter] for low, letter in scheme.bands],
                              points={k: str(v) for k, v in scheme.points.items()},
                              passing=list(scheme.passing), created_by_id=actor_id)
    db.session.add(row)
    db.session.flush()
    return row


def new_rule_version(program_id: int, *, name: str, factor: Decimal, step: Decimal, mode: str, source: str,
                     actor_id: int, recognised_factor: Decimal | None = None) -> CreditRule:
    """Add the next version of a program's credit rule. `recognised_factor` converts recognised
    credits (認定) toward the Uzbek degree; None: they do not count toward it. Raises DomainError on
    a bad factor, step or mode."""
    if not name.strip():
        raise DomainError(_("Give the rule a name."))
    if not Decimal(0) < factor <= Decimal(10):
        raise DomainError(_("The factor must be above 0 and at most 10."))
    if not Decimal("0.01") <= step <= Decimal(10):
        raise DomainError(_("The rounding step must be between 0.01 and 10."))
    if mode not in ROUNDING_MODES:
        raise DomainError(_("Unknown rounding mode."))
    if recognised_factor is not None and not Decimal(0) <= recognised_factor <= Decimal(10):
        raise DomainError(_("The factor for recognised credits must be between 0 and 10."))
    latest = db.session.scalar(select(func.max(CreditRule.version)).where(CreditRule.program_id == program_id)) or 0
    row = CreditRule(program_id=program_id, version=latest + 1, name=name.strip(), factor=factor, step=step,
                     mode=mode, source=source.strip(), recognised_factor=recognised_factor, created_by_id=actor_id)
    db.session.add(row)
    db.session.flush()
    return row


# --- submitting and finalizing ---------------------------------------------------------------------

def valid_score(value: Decimal | None) -> Decimal:
    """A raw score to store: 0–100, rounded half-up to two decimals (88.125 → 88.13, as registrars
    round by hand). Raises DomainError otherwise."""
    if value is None or not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise DomainError(_("A score must be between 0 and 100."))
    return value.quantize(HUNDREDTH, ROUND_HALF_UP)


def offering_results(offering_id: int) -> dict[int, FinalResult]:
    return {r.student_id: r for r in db.session.scalars(
        select(FinalResult).where(FinalResult.offering_id == offering_id))}


def enrolled_students(offering_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(Enrollment, Enrollment.student_id == User.id)
                                   .where(Enrollment.offering_id == offering_id)
                                   .order_by(User.student_number, User.id)))


def put_result(offering: Offering, student_id: int, raw: Decimal, actor_id: int, source: str,
               existing: FinalResult | None) -> FinalResult:
    """Create or update one student's SUBMITTED result. Raises Conflict when it is finalized."""
    if existing is not None and existing.state == ResultState.FINALIZED:
        raise Conflict(_("This result is finalized and can no longer change; a registrar can amend it."))
    result = existing or FinalResult(student_id=student_id, offering_id=offering.id)
    result.raw_score, result.state, result.source = valid_score(raw), ResultState.SUBMITTED, source
    result.submitted_by_id, result.submitted_at = actor_id, utcnow()
    db.session.add(result)
    return result


def submit_offering(offering: Offering, scores: dict[int, Decimal | None], actor_id: int,
                    excluded: set[int] = frozenset()) -> list[FinalResult]:
    """Submit the course score of every enrolled student not excluded as their raw score.

    Raises DomainError when a score is missing or out of range, and Conflict when the offering or a
    student's result is already finalized; writes nothing then."""
    students = enrolled_students(offering.id)
    existing = offering_results(offering.id)
    chosen = [s for s in students if s.id not in excluded]
    if not chosen:
        raise DomainError(_("There is no student to submit."))
    missing = [s.student_number or s.name_latin for s in chosen if scores.get(s.id) is None]
    if missing:
        raise DomainError(_("These students have no course score yet: %(who)s. Grade them or exclude them.",
                            who=", ".join(missing)))
    frozen = [s.student_number or s.name_latin for s in chosen
              if s.id in existing and existing[s.id].state == ResultState.FINALIZED]
    if frozen:
        raise Conflict(_("Results already finalized cannot be submitted again: %(who)s.", who=", ".join(frozen)))
    results = [put_result(offering, s.id, scores[s.id], actor_id, "gradebook", existing.get(s.id)) for s in chosen]
    db.session.flush()
    return results


def finalize_offering(offering: Offering, actor_id: int) -> list[FinalResult]:
    """Freeze every submitted result of the offering with the scheme versions in force now: each
    result keeps a snapshot of its course, term, scheme, rule and figures (lms/records/snapshot.py).

    Raises DomainError when nothing is submitted, the course's partner has no grade scheme, or a
    student's program has no credit rule."""
    pending = [r for r in offering_results(offering.id).values() if r.state == ResultState.SUBMITTED]
    if not pending:
        raise DomainError(_("No submitted results to finalize."))
    scheme = current_scheme(offering.course.partner_id)
    if scheme is None:
        raise DomainError(_("The course's partner university has no grade scheme yet; create one first."))
    rules: dict[int, CreditRule | None] = {}
    for result in pending:
        program_id = result.student.program_id
        if program_id not in rules:
            rules[program_id] = current_rule(program_id)
        if rules[program_id] is None:
            raise DomainError(_("%(who)s has no program with a credit rule; set one before finalizing.",
                                who=result.student.student_number or result.student.name_latin))
    now = utcnow()
    for result in pending:
        rule = rules[result.student.program_id]
        result.ja_scheme_id, result.credit_rule_id = scheme.id, rule.id
        result.frozen = snapshot.freeze(result, scheme, rule)
        result.finalized_by_id, result.finalized_at, result.state = actor_id, now, ResultState.FINALIZED
    db.session.flush()
    from lms.records import issuing  # the badges of passed courses are signed by a job

    issuing.enqueue_badges([r.id for r in pending])
    return pending


def amend_result(result: FinalResult, new_raw: Decimal | None, reason: str, actor_id: int) -> ResultAmendment:
    """Correct a finalized result with an amendment row; the result itself never changes. Its
    Open Badges credential is revoked and a new one queued.

    Raises DomainError without a reason, with a score outside 0–100, on an open result (submit it
    again instead) or when the score is unchanged."""
    if result.state != ResultState.FINALIZED:
        raise DomainError(_("Only finalized results are amended; this one can still be submitted again."))
    if not reason.strip():
        raise DomainError(_("Give the reason for the amendment."))
    new_raw = valid_score(new_raw)
    old = effective_raw(result)
    if new_raw == old:
        raise DomainError(_("The new score is the same as the current one."))
    amendment = ResultAmendment(result_id=result.id, actor_id=actor_id, reason=reason.strip(),
                                old_raw_score=old, new_raw_score=new_raw)
    db.session.add(amendment)
    db.session.flush()
    db.session.expire(result, ["amendments"])
    from lms.records import issuing

    issuing.supersede_badge(result, amendment.reason, actor_id)
    return amendment


def recognise_credits(student: User, title: str, institution: str, ja_credits: Decimal, approver: User) -> RecognisedCredit:
    """認定: credits from elsewhere, with the Uzbek credits they count for by the student's program's
    credit rule in force now (kept on the row). Raises DomainError when they would pass the
    60-credit cap, or when the student has no program with a credit rule."""
    held = db.session.scalar(select(func.coalesce(func.sum(RecognisedCredit.ja_credits), 0))
                             .where(RecognisedCredit.student_id == student.id))
    if Decimal(held) + ja_credits > derive.RECOGNISED_CAP:
        raise DomainError(_("At most %(cap)s recognised credits count toward the degree; %(held)s are recorded.",
                            cap=derive.RECOGNISED_CAP, held=Decimal(held)))
    rule = current_rule(student.program_id)
    if rule is None:
        raise DomainError(_("%(who)s has no program with a credit rule; set one before recognising credits.",
                            who=student.student_number or student.name_latin))
    row = RecognisedCredit(student_id=student.id, title=title.strip(), institution=institution.strip(),
                           ja_credits=ja_credits, credit_rule_id=rule.id,
                           uz_credits=rule_value(rule).convert_recognised(ja_credits), approved_by_id=approver.id)
    db.session.add(row)
    db.session.flush()
    return row
