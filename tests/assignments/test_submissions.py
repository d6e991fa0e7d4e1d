"""Students hand in work; receipts, versions, limits, lateness and double submits."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from hashlib import sha256
from pathlib import Path

from sqlalchemy import func, select

from lms.assignments.models import Extension, Submission, SubmissionFile
from lms.extensions import db
from tests.assignments.conftest import PNG, form_key, login, make_assignment, submit_files


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    """Submission files, and anything the form parser's spool left behind."""
    found = []
    for name in ("submissions", ".spool"):
        folder = Path(app.config["MEDIA_ROOT"]) / name
        found += list(folder.iterdir()) if folder.exists() else []
    return found


def test_files_submission_and_its_receipt(app, world):
    client = login(app, world.student)
    response = submit_files(client, world.assignment, [("城.png", PNG), ("brief.pdf", b"%PDF-1.7\n...")])
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "On time" in receipt and "城.png" in receipt and "brief.pdf" in receipt
    assert sha256(PNG).hexdigest() in receipt
    assert "Tashkent" in receipt and "Tokyo" in receipt
    submission = db.session.scalar(select(Submission))
    assert submission.attempt == 1 and submission.penalty_percent == 0
    stored = [f.storage_key for f in submission.files]
    assert all(key.startswith("submissions/") and "城" not in key for key in stored)


def test_resubmission_keeps_every_version_until_attempts_run_out(app, world):
    client = login(app, world.student)
    submit_files(client, world.assignment, [("v1.png", PNG)])
    submit_files(client, world.assignment, [("v2.png", PNG)])
    third = submit_files(client, world.assignment, [("v3.png", PNG)], key="a-third-form")
    assert third.status_code == 303
    page = client.get(third.headers["Location"]).get_data(as_text=True)
    assert "used all 2 attempts" in page
    assert [s.attempt for s in db.session.scalars(select(Submission).order_by(Submission.attempt))] == [1, 2]
    assert "Attempt 1" in page and "Attempt 2" in page


def test_the_same_form_sent_twice_makes_one_submission(app, world):
    client = login(app, world.student)
    key = form_key(client, world.assignment)
    first = submit_files(client, world.assignment, [("a.png", PNG)], key=key)
    again = submit_files(client, world.assignment, [("a.png", PNG)], key=key)
    assert first.headers["Location"] == again.headers["Location"]
    assert count(Submission) == 1 and count(SubmissionFile) == 1
    assert len(stored_files(app)) == 1  # the duplicate's file was not kept either


def test_another_students_form_key_cannot_be_reused(app, world):
    key = form_key(login(app, world.student), world.assignment)
    submit_files(login(app, world.student), world.assignment, [("a.png", PNG)], key=key)
    response = submit_files(login(app, world.other_student), world.assignment, [("b.png", PNG)], key=key)
    assert response.status_code == 303 and count(Submission) == 1


def test_content_must_match_the_extension_and_nothing_is_kept(app, world):
    client = login(app, world.student)
    response = submit_files(client, world.assignment, [("ok.png", PNG), ("fake.png", b"%PDF-1.4 not an image")])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was submitted" in page and "fake.png: the content is not a real .png file" in page
    assert count(Submission) == 0 and count(SubmissionFile) == 0 and stored_files(app) == []


def test_disallowed_extension_is_refused(app, world):
    client = login(app, world.student)
    response = submit_files(client, world.assignment, [("scene.blend", b"BLENDER-v293")])
    assert ".blend files are not accepted here" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert count(Submission) == 0


def test_oversized_file_is_refused_whole(app, world):
    client = login(app, world.student)
    big = PNG + b"\x00" * (64 * 1024 + 1)
    response = submit_files(client, world.assignment, [("small.png", PNG), ("big.png", big)])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A file is larger than the" in page and "Nothing was submitted" in page
    assert count(Submission) == 0 and stored_files(app) == []


def test_request_over_the_submission_cap_is_413(app, world):
    app.config["SUBMISSION_MAX_BYTES"] = 1000
    client = login(app, world.student)
    response = submit_files(client, world.assignment, [("big.png", PNG * 10)])
    assert response.status_code == 413 and b"larger than allowed" in response.data
    assert count(Submission) == 0


def test_text_and_link_submissions(app, world):
    client = login(app, world.student)
    key = form_key(client, world.assignment)
    response = client.post(f"/assignments/{world.assignment.id}/submit",
                           data={"kind": "text", "idempotency_key": key + "t", "text": "<script>alert(1)</script> 企画"})
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 企画" in receipt
    bad = client.post(f"/assignments/{world.assignment.id}/submit",
                      data={"kind": "link", "idempotency_key": key + "l", "url": "javascript:alert(1)"})
    assert "starts with https://" in client.get(bad.headers["Location"]).get_data(as_text=True)


def test_a_kind_the_assignment_does_not_accept_is_refused(app, world):
    client = login(app, world.student)
    response = client.post(f"/assignments/{world.assignment.id}/submit",
                           data={"kind": "video", "idempotency_key": "k1"})
    assert "does not accept this kind" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_late_submission_stores_and_shows_its_penalty(app, world):
    late = make_assignment(world.offering, title="Late one", due_at=datetime.now(UTC) - timedelta(hours=30),
                           grace_minutes=10, penalty_percent=Decimal(10), max_penalty_percent=Decimal(50))
    client = login(app, world.student)
    response = submit_files(client, late, [("late.png", PNG)])
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Late by 1 d 6 h" in receipt and "late penalty 20.00%" in receipt
    late.penalty_percent = Decimal(50)  # changing the policy later does not rewrite what was applied
    db.session.commit()
    assert db.session.scalar(select(Submission)).penalty_percent == Decimal("20.00")


def test_cutoff_closes_and_an_extension_reopens(app, world):
    past = datetime.now(UTC) - timedelta(hours=1)
    closed = make_assignment(world.offering, title="Closed", due_at=past - timedelta(days=1), cutoff_at=past)
    client = login(app, world.student)
    page = client.get(f"/assignments/{closed.id}").get_data(as_text=True)
    assert "no longer accepts submissions" in page
    response = client.post(f"/assignments/{closed.id}/submit",
                           data={"kind": "text", "idempotency_key": "z", "text": "late"})
    assert "cut-off has passed" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.add(Extension(assignment_id=closed.id, student_id=world.student.id,
                             due_at=datetime.now(UTC) + timedelta(days=1), reason="illness"))
    db.session.commit()
    page = client.get(f"/assignments/{closed.id}").get_data(as_text=True)
    assert "extended for you" in page and "illness" in page
    ok = client.post(f"/assignments/{closed.id}/submit", data={"kind": "text", "idempotency_key": "y", "text": "now"})
    assert ok.headers["Location"].startswith("/submissions/")
    assert db.session.scalar(select(Submission)).late_seconds == 0


def test_downloads_are_attachments_with_nosniff_and_rfc6266_names(app, world):
    client = login(app, world.student)
    page_html = b"<html><script>document.cookie</script></html>"
    assignment = make_assignment(world.offering, title="Web", allowed_extensions=["html", "svg", "png"])
    response = submit_files(client, assignment, [("ページ.html", page_html), ("logo.svg", b"<svg onload=alert(1)>"),
                                                 ("art.png", PNG)])
    submission = db.session.get(Submission, int(response.headers["Location"].rsplit("/", 1)[1]))
    by_name = {f.filename: f for f in submission.files}
    for name in ("ページ.html", "logo.svg"):
        download = client.get(f"/submissions/{submission.id}/files/{by_name[name].id}")
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.content_type == "application/octet-stream"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "filename*=UTF-8''%E3%83%9A" in client.get(
        f"/submissions/{submission.id}/files/{by_name['ページ.html'].id}").headers["Content-Disposition"]
    image = client.get(f"/submissions/{submission.id}/files/{by_name['art.png'].id}")
    assert image.content_type == "image/png" and image.headers["Content-Disposition"].startswith("inline")
