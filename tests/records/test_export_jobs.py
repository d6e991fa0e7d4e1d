"""Transcript download routes (role matrix, headers) and the cohort export job end to end."""
import csv
import io
import json
import zipfile

import pytest

from lms.auth.models import Role
from lms.jobs.models import Job, JobState
from lms.jobs.worker import Worker
from lms.records import export_jobs
from tests.records import transcript_data

FORMATS = ["pdf", "csv", "json"]


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
        assert response.headers["Content-Disposition"] == f"attachment; filename=transcript-JDU26001.{fmt}"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]


def test_anonymous_is_sent_to_login(app, make, client):
    cohort = transcript_data.build(make)
    response = client.get(f"/records/students/{cohort.student.id}/transcript.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_json_and_csv_bodies(app, make, client, auth):
    cohort = transcript_data.build(make)
    auth.login(cohort.student)
    body = client.get(f"/records/students/{cohort.student.id}/transcript.json").get_json(force=True)
    assert body["type"] == ["VerifiableCredential", "ClrCredential"]
    data = client.get(f"/records/students/{cohort.student.id}/transcript.csv").data
    assert data.startswith(b"\xef\xbb\xbf") and "ゲームデザイン基礎".encode() in data


@pytest.mark.parametrize("fmt", FORMATS)
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

    assert Worker(app).run(drain=True) == 1
    status = client.get(f"/records/exports/{job.id}", headers={"Accept": "application/json"}).get_json()
    assert status["state"] == "done" and status["percent"] == 100 and status["ready"]
    assert b"Download" in client.get(f"/records/exports/{job.id}").data
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment; filename=transcripts-GD-2026.")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
        assert len(rows) == 3 * 3 + 1 and {r["student_number"] for r in rows} >= {"JDU26001"}
    elif fmt == "json":
        assert [c["type"][1] for c in json.loads(download.data)] == ["ClrCredential"] * 3
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
