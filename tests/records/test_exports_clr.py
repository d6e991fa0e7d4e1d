"""The CLR 2.0 export: a ClrCredential of one AchievementCredential per result, in the spec's shape."""
import json
from pathlib import Path

import jsonschema
import pytest

from lms.records import exports
from tests.records import transcript_data

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "clr_v2p0_shape.schema.json").read_text())


def validator():
    cls = jsonschema.Draft202012Validator
    cls.check_schema(SCHEMA)
    return cls(SCHEMA, format_checker=cls.FORMAT_CHECKER)


def results_by_kind(credential: dict) -> dict[str, str]:
    subject = credential["credentialSubject"]
    return {r["resultDescription"].rsplit("#", 1)[1]: r["value"] for r in subject.get("result", [])}


def test_clr_credential_matches_the_schema(app, make):
    cohort = transcript_data.build(make)
    credential = exports.clr_credential(exports.transcript(cohort.student.id))
    errors = sorted(validator().iter_errors(credential), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert credential["@context"] == exports.CONTEXTS
    assert "proof" not in credential  # unsigned by design
    assert len(credential["credentialSubject"]["verifiableCredential"]) == 4


@pytest.mark.parametrize("broken", ["no_validFrom", "extra_subject_field", "bad_context", "no_criteria"])
def test_the_schema_catches_broken_credentials(app, make, broken):
    cohort = transcript_data.build(make)
    credential = exports.clr_credential(exports.transcript(cohort.student.id))
    inner = credential["credentialSubject"]["verifiableCredential"][0]
    if broken == "no_validFrom":
        del credential["validFrom"]
    elif broken == "extra_subject_field":
        inner["credentialSubject"]["grade"] = "A"
    elif broken == "bad_context":
        credential["@context"] = credential["@context"][::-1]
    else:
        del inner["credentialSubject"]["achievement"]["criteria"]
    assert list(validator().iter_errors(credential))


def test_each_course_carries_both_systems(app, make):
    cohort = transcript_data.build(make)
    credential = exports.clr_credential(exports.transcript(cohort.student.id))
    assert credential["issuer"]["name"] == "Japan Digital University"
    by_code = {c["credentialSubject"]["achievement"]["humanCode"]: c
               for c in credential["credentialSubject"]["verifiableCredential"]}
    first = by_code[cohort.codes[0]]
    subject = first["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "JDU26001"
    assert subject["achievement"]["creditsAvailable"] == 2 and subject["creditsEarned"] == 2
    assert subject["achievement"]["description"] == "ゲームデザイン基礎"
    assert results_by_kind(first) == {"ja-letter": "A", "ja-gpa-points": "3", "uz-grade": "4", "uz-score": "88",
                                      "uz-credits": "3"}
    assert subject["activityStartDate"] == "2026-04-01T00:00:00Z"
    assert subject["activityEndDate"] == "2026-07-31T23:59:59Z"
    assert "2026年度 前期" in subject["term"] and "2025/2026 semester 2" in subject["term"]
    descriptions = {d["id"].rsplit("#", 1)[1]: d for d in subject["achievement"]["resultDescription"]}
    assert "Kansai GPA v1" in descriptions["ja-letter"]["name"]
    assert "By workload v1" in descriptions["uz-credits"]["name"]
    failed = by_code[cohort.codes[2]]["credentialSubject"]
    assert failed["creditsEarned"] == 0 and results_by_kind(by_code[cohort.codes[2]])["ja-letter"] == "F"
