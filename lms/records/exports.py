"""Transcript exports as CSV and as a 1EdTech CLR 2.0 credential, both built from `student_record`.

Every figure comes from `record.student_record`, the one place that derives them, so the CSV, the
CLR JSON and the PDF (exports_pdf.py) of a student cannot disagree.
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TextIO

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.extensions import db
from lms.records.record import Line, StudentRecord, student_record, student_records

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ISSUER_URL = "https://jdu.uz/"
CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CLR_SCHEMA = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"


@dataclass
class Transcript:
    """A student and their record: what every export format is built from."""

    student: User
    record: StudentRecord


def transcript(student_id: int) -> Transcript:
    return Transcript(db.session.get(User, student_id), student_record(student_id))


def transcripts(student_ids: list[int], batch: int = 200) -> Iterator[Transcript]:
    """A cohort's transcripts, loaded a batch of students at a time (a few queries per batch)."""
    for start in range(0, len(student_ids), batch):
        ids = student_ids[start:start + batch]
        records = student_records(ids)
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
        for student_id in ids:
            yield Transcript(users[student_id], records[student_id])


def cohort_student_ids(program_id: int, cohort_year: int) -> list[int]:
    return list(db.session.scalars(
        select(User.id).where(User.role == Role.STUDENT, User.program_id == program_id,
                              User.cohort_year == cohort_year).order_by(User.student_number, User.id)))


def figure(value: Decimal | int | None) -> str:
    """A figure as registrars write it: no exponent, no trailing zeros past the point ("2", "1.5")."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


# --- CSV -------------------------------------------------------------------------------------------

CSV_COLUMNS: list[tuple[str, callable]] = [
    ("student_number", lambda t, x: t.student.student_number or ""),
    ("name_latin", lambda t, x: t.student.name_latin),
    ("name_kana", lambda t, x: t.student.name_kana or ""),
    ("course_code", lambda t, x: x.course_code),
    ("title_en", lambda t, x: x.title_en),
    ("title_ja", lambda t, x: x.title_ja or ""),
    ("term", lambda t, x: x.term_name),
    ("ja_year", lambda t, x: x.ja_year),
    ("ja_semester", lambda t, x: x.ja_semester),
    ("uz_year", lambda t, x: x.uz_year),
    ("uz_semester", lambda t, x: x.uz_semester),
    ("ja_credits", lambda t, x: figure(x.ja_credits)),
    ("raw_score", lambda t, x: figure(x.raw)),
    ("letter", lambda t, x: x.letter or ""),
    ("gpa_points", lambda t, x: figure(x.gpa_points)),
    ("ja_scheme", lambda t, x: x.ja_scheme),
    ("uz_credits", lambda t, x: figure(x.uz_credits)),
    ("uz_grade", lambda t, x: figure(x.uz_grade)),
    ("uz_score", lambda t, x: figure(x.raw)),
    ("credit_rule", lambda t, x: x.credit_rule),
    ("recognised", lambda t, x: "yes" if x.recognised else "no"),
    ("state", lambda t, x: x.state),
    ("amended", lambda t, x: "yes" if x.amended else "no"),
]
CSV_HEADER = [name for name, _ in CSV_COLUMNS]


def neutralise(value: object) -> str:
    """Spreadsheets run a cell that starts with = + - @ (or a tab or CR) as a formula: quote it."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_rows(item: Transcript) -> Iterator[list[str]]:
    for line in item.record.lines:
        yield [neutralise(fn(item, line)) for _, fn in CSV_COLUMNS]


def write_csv(out: TextIO, items: Iterable[Transcript]) -> None:
    """UTF-8 CSV with a BOM (so Excel reads the Japanese titles), one row per course result."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item in items:
        writer.writerows(csv_rows(item))


def student_csv(student_id: int) -> bytes:
    out = io.StringIO()
    write_csv(out, [transcript(student_id)])
    return out.getvalue().encode("utf-8")


# --- CLR 2.0 ---------------------------------------------------------------------------------------
# Unsigned: these credentials carry no `proof`. They are a faithful, machine-readable copy of the
# record for the student and receiving institutions; signing (a DataIntegrityProof or VC-JWT with
# the university's key) is a separate step that needs key management we do not have yet.

def issuer_profile() -> dict:
    return {"id": ISSUER_URL, "type": ["Profile"], "name": "Japan Digital University",
            "url": ISSUER_URL, "description": "Japan Digital University (JDU), Tashkent, Uzbekistan"}


def _datetime(day: date | None, end: bool = False) -> str | None:
    if day is None:
        return None
    moment = datetime.combine(day, time(23, 59, 59) if end else time(0, 0, 0), tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _student_identifier(student: User) -> list[dict]:
    return [{"type": "IdentityObject", "hashed": False, "identityHash": student.student_number or str(student.id),
             "identityType": "sisSourcedId"}]


def _result_descriptions(achievement_id: str, line: Line) -> list[dict]:
    def description(key: str, name: str, result_type: str, **extra) -> dict:
        return {"id": f"{achievement_id}#{key}", "type": ["ResultDescription"], "name": name,
                "resultType": result_type, **extra}

    return [
        description("ja-letter", f"Japanese letter grade ({line.ja_scheme})", "LetterGrade",
                    allowedValue=["S", "A", "B", "C", "F"]),
        description("ja-gpa-points", f"Japanese GPA points ({line.ja_scheme})", "GradePointAverage"),
        description("uz-grade", "Uzbek 5-point grade", "ext:UzbekFivePointGrade", valueMin="2", valueMax="5"),
        description("uz-score", "Uzbek 100-point score", "ScaledScore", valueMin="0", valueMax="100"),
        description("uz-credits", f"Uzbek credits ({line.credit_rule})", "ext:UzbekCredits"),
    ]


def _results(achievement_id: str, line: Line) -> list[dict]:
    values = [("ja-letter", line.letter), ("ja-gpa-points", figure(line.gpa_points)),
              ("uz-grade", figure(line.uz_grade)), ("uz-score", figure(line.raw)),
              ("uz-credits", figure(line.uz_credits))]
    return [{"type": ["Result"], "resultDescription": f"{achievement_id}#{key}", "value": value}
            for key, value in values if value]


def _term_label(line: Line) -> str:
    return (f"{line.term_name} ({line.ja_year}年度 {line.ja_semester}; "
            f"{line.uz_year} semester {line.uz_semester})")


def achievement_credential(item: Transcript, line: Line, issued: str) -> dict:
    """One course result as an Open Badges 3.0 AchievementCredential (unsigned)."""
    code = line.course_code
    achievement_id = f"{ISSUER_URL}courses/{code}" if not line.recognised else f"urn:uuid:{uuid.uuid4()}"
    achievement = {
        "id": achievement_id, "type": ["Achievement"], "achievementType": "Course", "humanCode": code,
        "name": line.title_en, "description": line.title_ja or line.title_en,  # the Japanese title
        "criteria": {"narrative": "Recognised credits (認定)" if line.recognised else
                     f"Completion of {code} with a passing final result"},
        "creditsAvailable": float(line.ja_credits),
        "resultDescription": [] if line.recognised else _result_descriptions(achievement_id, line),
    }
    subject = {
        "type": ["AchievementSubject"], "identifier": _student_identifier(item.student),
        "achievement": achievement, "creditsEarned": float(line.ja_credits if line.ja_passed or line.recognised
                                                           else Decimal(0)),
        "term": _term_label(line),
    }
    if not line.recognised:
        subject["result"] = _results(achievement_id, line)
    if line.term_starts_on:
        subject["activityStartDate"] = _datetime(line.term_starts_on)
        subject["activityEndDate"] = _datetime(line.term_ends_on, end=True)
    return {
        "@context": CONTEXTS[:1] + CONTEXTS[2:],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": f"{code} {line.title_en}",
        "issuer": issuer_profile(),
        "validFrom": issued,
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def clr_credential(item: Transcript, *, now: datetime | None = None) -> dict:
    """The whole record as a CLR 2.0 ClrCredential bundling one AchievementCredential per result.

    Unsigned (no `proof`): see the note above. Totals and both degrees' requirements travel in the
    description, since ClrSubject has no place of its own for them.
    """
    issued = (now or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    student, totals = item.student, item.record.totals
    summary = (f"Japanese credits {figure(totals.ja_credits)}/{item.record.ja_required}, "
               f"GPA {figure(totals.ja_gpa) or '-'}; Uzbek credits {figure(totals.uz_credits)}/"
               f"{item.record.uz_required}, 5-point average {figure(totals.uz_average) or '-'}, "
               f"100-point average {figure(totals.uz_score) or '-'}")
    return {
        "@context": CONTEXTS,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Transcript of {student.name_latin}" + (f" ({student.name_kana})" if student.name_kana else ""),
        "description": summary,
        "issuer": issuer_profile(),
        "validFrom": issued,
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": _student_identifier(student),
            "verifiableCredential": [achievement_credential(item, line, issued) for line in item.record.lines],
        },
        "credentialSchema": [{"id": CLR_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
