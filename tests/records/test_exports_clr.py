"""The signed CLR 2.0 transcript: finalized results only, in the spec's shape, stable ids, totals
as results, amendments said so, and a signature that a changed byte breaks."""
import base64
import json
from pathlib import Path

import jsonschema
import pytest

from lms.auth.models import Role
from lms.credentials import services as credentials
from lms.extensions import db
from lms.records import clr, exports, issuing
from lms.records.models import FinalResult
from tests.records import transcript_data

SCHEMAS = Path(__file__).parent / "schemas"
SHAPE = json.loads((SCHEMAS / "clr_v2p0_shape.schema.json").read_text())


def validators():
    """Our restatement of the spec, and 1EdTech's published schema where it is vendored."""
    out = [jsonschema.Draft202012Validator(SHAPE, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)]
    official = SCHEMAS / "clr_v2p0_clrcredential_schema.json"
    if official.exists():
        schema = json.loads(official.read_text())
        cls = jsonschema.validators.validator_for(schema)
        out.append(cls(schema, format_checker=cls.FORMAT_CHECKER))
    return out


def errors_of(document: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for v in validators() for e in v.iter_errors(document)]


def results_by_kind(credential: dict) -> dict[str, str]:
    subject = credential["credentialSubject"]
    return {r["resultDescription"].rsplit("#", 1)[1]: r["value"] for r in subject.get("result", [])}


def signed_clr(student_id: int) -> tuple[str, dict]:
    row = issuing.student_clr(student_id)
    db.session.commit()
    verdict = credentials.verify(row.token)
    assert verdict.status == "valid", verdict.checks
    return row.token, verdict.credential


def test_the_signed_clr_matches_the_schema(app, make):
    cohort = transcript_data.build(make)
    _token, credential = signed_clr(cohort.student.id)
    assert not errors_of(credential)
    assert credential["@context"] == clr.CLR_CONTEXTS
    assert credential["issuer"]["id"] == credentials.issuer_did()
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"
    # the progress credential, three results and one 認定 line
    assert len(credential["credentialSubject"]["verifiableCredential"]) == 5


@pytest.mark.parametrize("broken", ["no_validFrom", "extra_subject_field", "bad_context", "no_criteria"])
def test_the_schema_catches_broken_credentials(app, make, broken):
    cohort = transcript_data.build(make)
    credential = clr.clr_document(exports.transcript(cohort.student.id))
    credential["id"], credential["issuer"] = "urn:uuid:0", credentials.issuer_profile()
    inner = credential["credentialSubject"]["verifiableCredential"][1]
    if broken == "no_validFrom":
        del credential["validFrom"]
    elif broken == "extra_subject_field":
        inner["credentialSubject"]["grade"] = "A"
    elif broken == "bad_context":
        credential["@context"] = credential["@context"][::-1]
    else:
        del inner["credentialSubject"]["achievement"]["criteria"]
    assert errors_of(credential)


def test_each_course_carries_both_systems(app, make):
    cohort = transcript_data.build(make)
    _token, credential = signed_clr(cohort.student.id)
    by_code = {c["credentialSubject"]["achievement"]["humanCode"]: c
               for c in credential["credentialSubject"]["verifiableCredential"][1:]}
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
    assert "Kansai GPA v1" in descriptions["ja-letter"]["name"] and descriptions["ja-gpa-points"]["valueMax"] == "4"
    assert "By workload v1" in descriptions["uz-credits"]["name"]
    failed = by_code[cohort.codes[2]]["credentialSubject"]
    assert failed["creditsEarned"] == 0 and results_by_kind(by_code[cohort.codes[2]])["ja-letter"] == "F"


def test_totals_are_machine_readable_results(app, make):
    cohort = transcript_data.build(make)
    _token, credential = signed_clr(cohort.student.id)
    progress = credential["credentialSubject"]["verifiableCredential"][0]
    values = results_by_kind(progress)
    record = exports.transcript(cohort.student.id).record
    assert values["ja-credits"] == exports.figure(record.totals.ja_credits) == "8"  # 2 + 4 + 2 recognised
    assert values["uz-credits"] == exports.figure(sum(x.uz_credits for x in record.counted_lines))
    assert values["ja-gpa-4"] == exports.figure(record.totals.ja_gpa)
    assert progress["credentialSubject"]["achievement"]["achievementType"] == "ext:DegreeProgress"


def test_ids_are_stable_and_an_amendment_says_so(app, make):
    cohort = transcript_data.build(make)
    first = clr.clr_document(exports.transcript(cohort.student.id))
    again = clr.clr_document(exports.transcript(cohort.student.id))
    ids = lambda doc: [(c["id"], c["credentialSubject"]["achievement"]["id"])  # noqa: E731
                       for c in doc["credentialSubject"]["verifiableCredential"]]
    assert ids(first) == ids(again)
    recognised = [c for c in first["credentialSubject"]["verifiableCredential"]
                  if c["credentialSubject"]["achievement"].get("humanCode") == "認定"]
    assert recognised and "/achievements/recognised/" in recognised[0]["credentialSubject"]["achievement"]["id"]
    amended = [c for c in first["credentialSubject"]["verifiableCredential"] if "narrative" in c["credentialSubject"]]
    assert len(amended) == 1 and "re-marked" in amended[0]["credentialSubject"]["narrative"]
    assert amended[0]["description"].startswith("Amended on ")


def test_pending_results_never_reach_the_clr(app, make):
    cohort = transcript_data.build(make)
    course = make.course(title_en="Still open")
    db.session.add(FinalResult(student_id=cohort.student.id, offering_id=make.offering(course).id, raw_score=95,
                               state="submitted"))
    db.session.commit()
    _token, credential = signed_clr(cohort.student.id)
    codes = {c["credentialSubject"]["achievement"].get("humanCode") for c in credential["credentialSubject"]["verifiableCredential"]}
    assert course.code not in codes
    progress = credential["credentialSubject"]["verifiableCredential"][0]
    assert results_by_kind(progress)["ja-credits"] == "8"


def test_a_changed_byte_breaks_the_signature(app, make):
    cohort = transcript_data.build(make)
    token, _credential = signed_clr(cohort.student.id)
    header, payload, signature = token.split(".")
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    forged = text.replace('"value": "A"', '"value": "S"', 1).replace('"value":"A"', '"value":"S"', 1)
    assert forged != text
    body = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    assert credentials.verify(f"{header}.{body}.{signature}").status == "tampered"


def test_no_finalized_results_no_clr(app, make):
    student = make.user(Role.STUDENT)
    with pytest.raises(clr.NothingToCertify):
        clr.clr_document(exports.transcript(student.id))
