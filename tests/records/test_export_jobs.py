"""Transcript download routes (role matrix, headers) and the cohort export job end to end."""
import csv
import io
import zipfile

import pytest

from lms.filenames import content_disposition
from lms.auth.models import Role
from lms.jobs.models import Job, JobState
from lms.jobs.worker import Worker
from lms.records import export_jobs
from tests.records import transcript_data

FORMATS = ["pdf", "csv", "jwt"]
FILE_NAMES = {"pdf": "transcript-JDU26001.pdf", "csv": "transcript-JDU26001.csv", "jwt": "transcript-JDU26001.clr.jwt"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("role,allowed", [("self", True), ("registrar", True), ("admin", True),
                                          ("other_student", False), ("instructor", False)])
def test_student_transcript_role_matrix(app, make, client, auth, fmt, role, allowed):
    cohort = transcript_data.build(make)
    who = {"self": cohort.student, "registrar": cohort.registrar, "admin": make.user(Role.ADMIN),
           "other_student": make.user(Role.STUDENT), "instructor": make.user(Role.INSTRUCTOR)}[role]
    auth.login(who)
    response = client.get(f"/records/students/{cohort.student.id}/transcript.{fmt}")
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert response.headers["Content-Disposition"] == content_disposition(FILE_NAMES[fmt])
        assert response.headers["Content-Type"].count("charset") <= 1
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]


def test_anonymous_is_sent_to_login(app, make, client):
    cohort = transcript_data.build(make)
    response = client.get(f"/records/students/{cohort.student.id}/transcript.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_signed_clr_and_csv_bodies(app, make, client, auth):
    from lms.credentials import services as credentials

    cohort = transcript_data.build(make)
    auth.login(cohort.student)
    token = client.get(f"/records/students/{cohort.student.id}/transcript.jwt").get_data(as_text=True)
    verdict = credentials.verify(token)
    assert verdict.status == "valid" and verdict.proof_format == "jose"
    assert verdict.credential["type"] == ["VerifiableCredential", "ClrCredential"]
    data = client.get(f"/records/students/{cohort.student.id}/transcript.csv").data
    assert data.startswith(b"\xef\xbb\xbf") and "ゲームデザイン基礎".encode() in data


@pytest.mark.parametrize("fmt", ["pdf", "csv", "clr"])
def test_cohort_export_end_to_end(app, make, client, auth, fmt):
    cohort = transcript_data.build(make, extra_students=2)
    auth.login(cohort.registrar)
    response = client.post("/records/exports", data={"program": cohort.program.id, "cohort_year": 2026,
                                                     "format": fmt})
    assert response.status_code == 302
    job = app.extensions["sqlalchemy"].session.query(Job).one()
    assert job.kind == "transcript_export" and job.payload["format"] == fmt
    page = client.get(f"/records/exports/{job.id}")
    assert b"<progress" in page.data and b"transcript-export.js" in page.data
    assert client.get(f"/records/exports/{job.id}/download").status_code == 404  # not ready yet

    assert Worker(app).run(drain=True) == 2  # the export, then its "export ready" notification
    assert f'id="bell-count">1<' in client.get("/").get_data(as_text=True)
    status = client.get(f"/records/exports/{job.id}", headers={"Accept": "application/json"}).get_json()
    assert status["state"] == "done" and status["percent"] == 100 and status["ready"]
    assert b"Download" in client.get(f"/records/exports/{job.id}").data
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith('attachment; filename="transcripts-GD-2026.')
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
        results = [r for r in rows if r["row_type"] in ("result", "recognised")]
        assert len(results) == 3 * 3 + 1 and {r["student_number"] for r in rows} >= {"JDU26001"}
        assert [r["row_type"] for r in rows].count("total") == 3
    elif fmt == "clr":
        from lms.credentials import services as credentials

        archive = zipfile.ZipFile(io.BytesIO(download.data))
        tokens = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".clr.jwt")]
        assert len(tokens) == 3 and "transcript-JDU26001.clr.jwt" in archive.namelist()
        verdicts = [credentials.verify(t) for t in tokens]
        assert {v.status for v in verdicts} == {"valid"}
        assert {v.credential["type"][1] for v in verdicts} == {"ClrCredential"}
    else:
        names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
        assert len(names) == 3 and "transcript-JDU26001.pdf" in names


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_cohort_exports_are_registrar_only(app, make, client, auth, role):
    cohort = transcript_data.build(make)
    job = export_jobs.start_export(cohort.program.id, 2026, "csv", cohort.registrar.id)
    app.extensions["sqlalchemy"].session.commit()
    Worker(app).run(drain=True)
    auth.login(cohort.student if role == "student" else make.user(Role.INSTRUCTOR))
    for path in ["/records/exports", f"/records/exports/{job.id}", f"/records/exports/{job.id}/download"]:
        assert client.get(path).status_code == 403
    assert client.post("/records/exports", data={"program": cohort.program.id, "cohort_year": 2026,
                                                 "format": "csv"}).status_code == 403


def test_other_job_kinds_are_not_exports(app, make, client, auth):
    from lms.jobs import queue

    cohort = transcript_data.build(make)
    other = queue.enqueue("transcode", {"video_id": 1})
    app.extensions["sqlalchemy"].session.commit()
    auth.login(cohort.registrar)
    assert client.get(f"/records/exports/{other.id}").status_code == 403
    assert other.state == JobState.QUEUED


def test_a_cohort_clr_lists_students_without_results_instead_of_empty_credentials(app, make, client, auth):
    cohort = transcript_data.build(make)
    newcomer = make.user(Role.STUDENT, program_id=cohort.program.id, cohort_year=2026, student_number="JDU26099")
    export_jobs.start_export(cohort.program.id, 2026, "clr", cohort.registrar.id)
    app.extensions["sqlalchemy"].session.commit()
    assert Worker(app).run(drain=True) >= 1
    job = app.extensions["sqlalchemy"].session.query(Job).filter_by(kind="transcript_export").one()
    auth.login(cohort.registrar)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/records/exports/{job.id}/download").data))
    assert sorted(archive.namelist()) == ["README.txt", "transcript-JDU26001.clr.jwt"]
    assert newcomer.student_number in archive.read("README.txt").decode()


def test_a_student_with_nothing_finalized_gets_a_message_not_an_empty_clr(app, make, client, auth):
    student = make.user(Role.STUDENT)
    auth.login(student)
    response = client.get(f"/records/students/{student.id}/transcript.jwt", follow_redirects=True)
    assert "no finalized results yet" in response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/html")
