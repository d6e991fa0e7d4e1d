"""Open Badges 3.0 AchievementCredentials and CLR 2.0 ClrCredentials built from the record.

Only finalized results and recognised credits (認定) go into a credential. Ids are stable: an
achievement is named by its course code (or its 認定 row), and the credential of a result that
carries no signed badge yet is named by the result and its latest amendment, so the same record
exports with the same ids every time. The documents built here are unsigned; lms/records/issuing.py
has them signed by lms/credentials/ (issuer, status entry and proof are added there).
"""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _

from lms.credentials.loader import CLR_V2, OB_V3, VC_V2
from lms.credentials.services import issuer_profile
from lms.errors import DomainError
from lms.records.exports import Transcript, figure
from lms.records.record import Line

CLR_SCHEMA = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
CLR_CONTEXTS = [VC_V2, CLR_V2, OB_V3]
OB_CONTEXTS = [VC_V2, OB_V3]
ID_NAMESPACE = uuid.UUID("6b3c2a9e-5f0e-4d1a-9a4e-2f1d0c8b7a61")  # Kakehashi's own: uuid5 ids of records


class NothingToCertify(DomainError):
    """A student without finalized results: a CLR would be empty, which 1EdTech's schema refuses."""


def _origin() -> str:
    return current_app.config["APP_ORIGIN"].rstrip("/")


def stamp(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _day(day: date | None, end: bool = False) -> str | None:
    return None if day is None else stamp(datetime.combine(day, time(23, 59, 59) if end else time(0), tzinfo=UTC))


def achievement_id(line: Line) -> str:
    if line.recognised:
        return f"{_origin()}/achievements/recognised/{line.recognised_id}"
    return f"{_origin()}/achievements/courses/{line.course_code}"


def line_credential_id(line: Line) -> str:
    """Stable: the same finalized result (and amendment) always has the same id."""
    key = f"recognised:{line.recognised_id}" if line.recognised else \
        f"result:{line.result_id}:{stamp(line.amended_at) if line.amended_at else 'original'}"
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, _origin() + '|' + key)}"


def _identifier(student) -> list[dict]:
    return [{"type": "IdentityObject", "hashed": False, "identityHash": student.student_number or str(student.id),
             "identityType": "sisSourcedId"}]


def _descriptions(achievement: str, line: Line) -> list[dict]:
    scale = figure(line.gpa_scale)

    def description(key: str, name: str, result_type: str, **extra) -> dict:
        return {"id": f"{achievement}#{key}", "type": ["ResultDescription"], "name": name, "resultType": result_type,
                **extra}

    return [
        description("ja-letter", f"Japanese letter grade ({line.ja_scheme})", "LetterGrade",
                    allowedValue=["S", "A", "B", "C", "F"]),
        description("ja-gpa-points", f"Japanese GPA points on the {scale}-point scale ({line.ja_scheme})",
                    "GradePointAverage", valueMin="0", valueMax=scale),
        description("uz-grade", "Uzbek 5-point grade", "ext:UzbekFivePointGrade", valueMin="2", valueMax="5"),
        description("uz-score", "Uzbek 100-point score", "ScaledScore", valueMin="0", valueMax="100"),
        description("uz-credits", f"Uzbek credits ({line.credit_rule})", "ext:UzbekCredits"),
    ]


def _results(achievement: str, line: Line) -> list[dict]:
    values = [("ja-letter", line.letter), ("ja-gpa-points", figure(line.gpa_points)),
              ("uz-grade", figure(line.uz_grade)), ("uz-score", figure(line.raw)),
              ("uz-credits", figure(line.uz_credits))]
    return [{"type": ["Result"], "resultDescription": f"{achievement}#{key}", "value": value}
            for key, value in values if value]


def _alignments(line: Line) -> list[dict]:
    return alignments(line.skills)


def alignments(skills: list[str]) -> list[dict]:
    """A course's skills as OB 3.0 Alignments (also on the portfolio's work credentials)."""
    return [{"type": ["Alignment"], "targetName": skill, "targetType": "ceasn:Competency",
             "targetUrl": f"{_origin()}/skills/{uuid.uuid5(ID_NAMESPACE, skill)}", "targetFramework": "JDU skills"}
            for skill in skills]


def _amendment_note(line: Line) -> str | None:
    if not line.amended:
        return None
    return f"Amended on {line.amended_at.date().isoformat()}: {line.amended_reason}"


def _achievement(line: Line) -> dict:
    achievement = achievement_id(line)
    body = {
        "id": achievement, "type": ["Achievement"], "humanCode": line.course_code,
        "achievementType": "ext:RecognisedCredit" if line.recognised else "Course",
        "name": line.title_en, "description": line.title_ja or line.title_en,
        "criteria": {"narrative": "Credits recognised from elsewhere (認定)" if line.recognised else
                     f"Completion of {line.course_code} with a passing final result"},
        "creditsAvailable": float(line.ja_credits),
    }
    if not line.recognised:
        body["resultDescription"] = _descriptions(achievement, line)
    if line.skills:
        body["alignment"] = _alignments(line)
    return body


def _term_fields(line: Line, shared: dict | None) -> dict:
    """The subject's term and activity dates: the same for every student of an offering."""
    key = ("term", line.term_name, line.ja_year, line.ja_semester, line.uz_year, line.uz_semester,
           line.term_starts_on, line.term_ends_on)
    if shared is not None and (fields := shared.get(key)) is not None:
        return fields
    fields = {"term": f"{line.term_name} ({line.ja_year}年度 {line.ja_semester}; {line.uz_year} semester "
                      f"{line.uz_semester})"}
    if line.term_starts_on:
        fields["activityStartDate"], fields["activityEndDate"] = _day(line.term_starts_on), _day(line.term_ends_on, True)
    if shared is not None:
        shared[key] = fields
    return fields


def achievement_credential(item: Transcript, line: Line, issuer: dict | None = None,
                           shared: dict | None = None, identifier: list[dict] | None = None) -> dict:
    """One finalized result (or 認定 line) as an unsigned AchievementCredential. `shared` lets a
    cohort's documents share each course's Achievement object (it is the same for every student
    of an offering); the documents are then read-only."""
    key = (line.recognised, line.recognised_id, line.course_code, line.title_en, line.title_ja, line.ja_credits,
           line.ja_scheme, line.credit_rule, line.gpa_scale, tuple(line.skills))
    if shared is None:
        body = _achievement(line)
    elif (body := shared.get(key)) is None:
        body = shared[key] = _achievement(line)
    achievement = body["id"]
    subject = {"type": ["AchievementSubject"], "identifier": identifier or _identifier(item.student),
               "achievement": body,
               "creditsEarned": float(line.ja_credits if line.ja_passed or line.recognised else Decimal(0)),
               **_term_fields(line, shared)}
    if not line.recognised:
        subject["result"] = _results(achievement, line)
    if note := _amendment_note(line):
        subject["narrative"] = note
    credential = {
        "@context": OB_CONTEXTS, "id": line_credential_id(line),
        "type": ["VerifiableCredential", "AchievementCredential"], "name": f"{line.course_code} {line.title_en}",
        "issuer": issuer or issuer_profile(), "validFrom": stamp(line.amended_at or line.finalized_at), "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if note:
        credential["description"] = note
    return credential


def progress_credential(item: Transcript) -> dict:
    """Both degrees' totals as machine-readable results: an AchievementCredential whose achievement
    is the dual-degree progress itself (ClrSubject has no place of its own for totals)."""
    record, totals = item.record, item.record.totals
    achievement = f"{_origin()}/achievements/programs/{record.program.code if record.program else 'none'}/progress"
    kinds = [("ja-credits", "Japanese credits earned", "ext:JapaneseCredits", figure(totals.ja_credits),
              {"valueMax": str(record.ja_required)}),
             ("ja-recognised", "of which recognised (認定)", "ext:JapaneseCredits", figure(totals.ja_recognised), {}),
             ("uz-credits", "Uzbek credits earned", "ext:UzbekCredits", figure(totals.uz_credits),
              {"valueMax": str(record.uz_required)}),
             ("uz-average", "Uzbek 5-point average", "GradePointAverage", figure(totals.uz_average),
              {"valueMin": "2", "valueMax": "5"}),
             ("uz-score", "Uzbek 100-point average", "ScaledScore", figure(totals.uz_score),
              {"valueMin": "0", "valueMax": "100"})]
    kinds += [(f"ja-gpa-{figure(g.scale)}", f"Japanese GPA on the {figure(g.scale)}-point scale "
               f"({figure(g.credits)} credits)", "GradePointAverage", figure(g.gpa),
               {"valueMin": "0", "valueMax": figure(g.scale)}) for g in totals.ja_gpas]
    kinds = [k for k in kinds if k[3]]
    return {
        "@context": OB_CONTEXTS,
        "id": f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, _origin() + f'|progress:{item.student.id}:' + _last_change(item))}",
        "type": ["VerifiableCredential", "AchievementCredential"], "name": "Dual-degree progress",
        "issuer": issuer_profile(), "validFrom": _last_change(item),
        "credentialSubject": {
            "type": ["AchievementSubject"], "identifier": _identifier(item.student),
            "creditsEarned": float(totals.ja_credits),
            "achievement": {
                "id": achievement, "type": ["Achievement"], "achievementType": "ext:DegreeProgress",
                "name": "Progress toward the Japanese and Uzbek degrees",
                "description": f"{record.ja_required} Japanese credits and {record.uz_required} Uzbek credits",
                "criteria": {"narrative": "Sums of the finalized results and recognised credits in this transcript"},
                "creditsAvailable": float(record.ja_required),
                "resultDescription": [{"id": f"{achievement}#{key}", "type": ["ResultDescription"], "name": name,
                                       "resultType": kind, **extra} for key, name, kind, _value, extra in kinds]},
            "result": [{"type": ["Result"], "resultDescription": f"{achievement}#{key}", "value": value}
                       for key, _name, _kind, value, _extra in kinds]},
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def _last_change(item: Transcript) -> str:
    moments = [x.amended_at or x.finalized_at for x in item.record.counted_lines if x.amended_at or x.finalized_at]
    return stamp(max(moments)) if moments else stamp(None)


def clr_document(item: Transcript, signed: dict[int, dict] | None = None, shared: dict | None = None) -> dict:
    """The record as an unsigned ClrCredential: the progress credential, then one AchievementCredential
    per finalized result and 認定 line (the signed badge where one was issued for that result).
    Raises NothingToCertify when the student has no finalized result and no recognised credit."""
    lines = item.record.counted_lines
    if not lines:
        raise NothingToCertify(_("%(who)s has no finalized results yet, so there is no transcript to sign.",
                                 who=item.student.student_number or item.student.name_latin))
    signed, issuer, student = signed or {}, issuer_profile(), item.student
    identifier = _identifier(student)
    embedded = [signed.get(x.result_id) or achievement_credential(item, x, issuer, shared, identifier) for x in lines]
    return {
        "@context": CLR_CONTEXTS,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Transcript of {student.name_latin}" + (f" ({student.name_kana})" if student.name_kana else ""),
        "description": "Finalized results only; every figure is derived from the stored raw score with the "
                       "scheme and rule named on it.",
        "validFrom": stamp(None),
        "credentialSubject": {"type": ["ClrSubject"], "identifier": _identifier(student),
                              "verifiableCredential": [progress_credential(item), *embedded]},
        "credentialSchema": [{"id": CLR_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
