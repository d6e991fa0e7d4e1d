"""The grading pages: direct and rubric scores, form errors, stale forms, feedback files, timed
comments on a video, release and the student's partial, and rollback when the audit fails."""
from __future__ import annotations

import io
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import event, select

from lms.assignments.models import SubmissionFile, SubmissionKind
from lms.extensions import db
from lms.grading import services
from lms.grading.models import FeedbackFile, Grade, GradeAudit, TimedComment
from lms.grading.rubrics import CriterionSpec, LevelSpec
from lms.storage import get_storage
from lms.video.models import Video, VideoState
from tests.grading.conftest import make_submission

D = Decimal


def grade_url(assignment, student):
    return f"/grading/assignments/{assignment.id}/students/{student.id}"


def grade_of(assignment, student):
    db.session.expire_all()
    return db.session.scalar(select(Grade).where(Grade.assignment_id == assignment.id, Grade.student_id == student.id))


def test_direct_score_is_saved_and_shown(app, world, assignment, login):
    make_submission(assignment, world.student, text="<script>alert(1)</script> my essay")
    client = login(world.assistant)
    page = client.get(grade_url(assignment, world.student))
    assert page.status_code == 200
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; my essay" in page.data and b"<script>alert(1)" not in page.data
    response = client.post(grade_url(assignment, world.student),
                           data={"score": "87.5", "comment": "Nice timing", "version": "0"})
    assert response.status_code == 302
    grade = grade_of(assignment, world.student)
    assert (grade.raw_score, grade.comment, grade.graded_by_id) == (D("87.50"), "Nice timing", world.assistant.id)
    assert b"87.50" in client.get(grade_url(assignment, world.student)).data


@pytest.mark.parametrize("score", ["100.001", "-1", "101", "abc", "12.345"])
def test_out_of_range_scores_are_form_errors(app, world, assignment, login, score):
    client = login(world.instructor)
    response = client.post(grade_url(assignment, world.student), data={"score": score, "version": "0"})
    assert response.status_code == 400
    assert b"must be a number from 0 to 100 with at most two decimals" in response.data
    assert b'aria-invalid="true"' in response.data
    assert grade_of(assignment, world.student) is None


def test_rubric_levels_give_the_score(app, world, assignment, login):
    rubric = services.create_rubric(world.instructor, "Animation", "", [
        CriterionSpec("Timing", "", [LevelSpec("Great", D(4)), LevelSpec("Weak", D(1))]),
        CriterionSpec("Spacing", "", [LevelSpec("Great", D(2)), LevelSpec("Weak", D("0.5"))])])
    assignment.rubric_id = rubric.id
    db.session.commit()
    timing, spacing = rubric.criteria
    client = login(world.instructor)
    page = client.get(grade_url(assignment, world.student))
    assert b'data-points="4.00"' in page.data and b"js/rubric.js" in page.data
    response = client.post(grade_url(assignment, world.student), data={
        "score": "99", "version": "0",  # ignored: every criterion has a level
        f"level-{timing.id}": str(timing.levels[0].id), f"level-{spacing.id}": str(spacing.levels[1].id)})
    assert response.status_code == 302
    grade = grade_of(assignment, world.student)
    assert grade.raw_score == D("75.00")  # 4.5 of 6
    assert grade.rubric_levels == {str(timing.id): timing.levels[0].id, str(spacing.id): spacing.levels[1].id}
    # one criterion left out is a form error, not a silent score
    response = client.post(grade_url(assignment, world.student), data={
        "version": str(grade.version), f"level-{timing.id}": str(timing.levels[1].id)})
    assert response.status_code == 400 and b"Choose a level for" in response.data
    assert grade_of(assignment, world.student).raw_score == D("75.00")


def test_a_stale_form_is_refused_with_a_clear_message(app, world, assignment, login):
    first, second = login(world.instructor), login(world.assistant)
    first.post(grade_url(assignment, world.student), data={"score": "60", "version": "0"})
    response = second.post(grade_url(assignment, world.student), data={"score": "90", "version": "0"})
    assert response.status_code == 400
    assert b"Someone else changed this grade after you opened it" in response.data
    grade = grade_of(assignment, world.student)
    assert grade.raw_score == D("60.00")
    assert first.post(grade_url(assignment, world.student),
                      data={"score": "65", "version": str(grade.version), "reason": "recount"}).status_code == 302
    assert grade_of(assignment, world.student).raw_score == D("65.00")


def test_a_failed_audit_rolls_the_grade_back(app, world, assignment, login):
    client = login(world.instructor)
    client.post(grade_url(assignment, world.student), data={"score": "70", "version": "0"})
    grade = grade_of(assignment, world.student)

    def refuse(mapper, connection, target):
        raise RuntimeError("audit insert failed")

    event.listen(GradeAudit, "before_insert", refuse)
    try:
        edit = client.post(grade_url(assignment, world.student), data={"score": "10", "version": str(grade.version)})
        override = client.post(f"/grading/grades/{grade.id}/penalty",
                               data={"penalty-penalty": "50", "penalty-reason": "late"})
        release = client.post(f"/grading/assignments/{assignment.id}/release")
    finally:
        event.remove(GradeAudit, "before_insert", refuse)
    assert edit.status_code == override.status_code == release.status_code == 500
    assert b"audit insert failed" not in edit.data and b"Traceback" not in edit.data
    grade = grade_of(assignment, world.student)
    assert (grade.raw_score, grade.penalty_percent, grade.version) == (D("70.00"), D("0.00"), 1)
    assert db.session.get(type(assignment), assignment.id).released_at is None
    assert db.session.scalar(select(db.func.count(GradeAudit.id))) == 1


def test_penalty_override_through_the_page(app, world, assignment, login):
    make_submission(assignment, world.student, late_seconds=86400, penalty_percent=D("10"))
    client = login(world.instructor)
    client.post(grade_url(assignment, world.student), data={"score": "80", "version": "0"})
    grade = grade_of(assignment, world.student)
    assert services.final_score(grade) == D("72.00")
    client.post(f"/grading/grades/{grade.id}/penalty", data={"penalty-penalty": "0", "penalty-reason": ""})
    assert grade_of(assignment, world.student).penalty_percent == D("10.00")  # a reason is required
    client.post(f"/grading/grades/{grade.id}/penalty",
                data={"penalty-penalty": "0", "penalty-reason": "Network outage in Tashkent"})
    grade = grade_of(assignment, world.student)
    assert (grade.penalty_percent, grade.penalty_overridden) == (D("0.00"), True)
    audit = db.session.scalars(select(GradeAudit).where(GradeAudit.action == "penalty_override")).one()
    assert audit.reason == "Network outage in Tashkent" and audit.actor_id == world.instructor.id


def test_feedback_files_are_attachments_with_utf8_names(app, world, assignment, login):
    client = login(world.instructor)
    response = client.post(grade_url(assignment, world.student), content_type="multipart/form-data", data={
        "score": "90", "version": "0",
        "files": [(io.BytesIO(b"<html><script>alert(1)</script>"), "講評 final.html")]})
    assert response.status_code == 302
    feedback = db.session.scalars(select(FeedbackFile)).one()
    assert feedback.filename == "講評 final.html" and feedback.storage_key.startswith("feedback/")
    assert "講評" not in feedback.storage_key and get_storage().exists(feedback.storage_key)
    download = client.get(f"/grading/feedback/{feedback.id}")
    assert download.status_code == 200 and download.data.startswith(b"<html>")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('講評 final.html')}" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/octet-stream"
    # the student gets it only after release
    student = login(world.student)
    assert student.get(f"/grading/feedback/{feedback.id}").status_code == 403
    assert login(world.student2).get(f"/grading/feedback/{feedback.id}").status_code == 403
    client.post(f"/grading/assignments/{assignment.id}/release")
    assert student.get(f"/grading/feedback/{feedback.id}").status_code == 200
    assert login(world.student2).get(f"/grading/feedback/{feedback.id}").status_code == 403


def test_a_failed_save_leaves_no_feedback_file_behind(app, world, assignment, login, monkeypatch):
    monkeypatch.setattr(services, "FEEDBACK_MAX_BYTES", 10)
    client = login(world.instructor)
    response = client.post(grade_url(assignment, world.student), content_type="multipart/form-data", data={
        "score": "90", "version": "0",
        "files": [(io.BytesIO(b"notes"), "notes.txt"), (io.BytesIO(b"x" * 50), "big.psd")]})
    assert response.status_code == 400 and "“big.psd” is larger than".encode() in response.data
    assert grade_of(assignment, world.student) is None
    assert db.session.scalar(select(FeedbackFile.id)) is None
    folder = get_storage().root / "feedback"
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]


def test_submission_files_download_for_staff_only(app, world, assignment, login):
    submission = make_submission(assignment, world.student, kind=SubmissionKind.FILES, text=None)
    get_storage().put_bytes("submissions/test/abc", b"PNG...")
    row = SubmissionFile(submission_id=submission.id, storage_key="submissions/test/abc", filename="walk.png",
                         size=6, sha256="0" * 64, media_type="image/png")
    db.session.add(row)
    db.session.commit()
    url = f"/submissions/{submission.id}/files/{row.id}"
    response = login(world.assistant).get(url)
    assert response.status_code == 200 and response.data == b"PNG..."
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert login(world.other_instructor).get(url).status_code == 403
    assert login(world.student2).get(url).status_code == 403


@pytest.fixture
def video_submission(app, world, assignment):
    prefix = "videos/published/sub1"
    get_storage().put_bytes(f"{prefix}/master.m3u8", b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360/index.m3u8\n")
    video = Video(lesson_id=None, uploaded_by_id=world.student.id, original_key="videos/originals/x",
                  original_name="walk.mp4", original_size=10, original_sha256="0" * 64, state=VideoState.READY,
                  duration=95.0, width=640, height=360, renditions=["360"], published_prefix=prefix)
    db.session.add(video)
    db.session.flush()
    return make_submission(assignment, world.student, kind=SubmissionKind.VIDEO, text=None, video_id=video.id)


def test_video_submission_plays_and_takes_timed_comments(app, world, assignment, video_submission, login):
    client = login(world.assistant)
    page = client.get(grade_url(assignment, world.student))
    assert b'id="lesson-video"' in page.data and b"js/timed-comments.js" in page.data
    assert b'id="comment-timeline"' in page.data
    master = re.search(rb'data-master="([^"]+)"', page.data).group(1).decode().replace("&amp;", "&")
    playlist = client.get(master)
    assert playlist.status_code == 200 and b"360/index.m3u8" in playlist.data
    assert login(world.other_instructor).get(master).status_code == 404  # bound to the grader's session
    url = f"/grading/submissions/{video_submission.id}/comments"
    assert client.post(url, data={"second": "1:23.5", "text": "Feet slide here"}).status_code == 302
    assert client.post(url, data={"second": "12", "text": "Good anticipation"}).status_code == 302
    client.post(url, data={"second": "200", "text": "Past the end"})
    assert login(world.other_instructor).post(url, data={"second": "5", "text": "Not mine"}).status_code == 403
    comments = services.timed_comments(video_submission.id)
    assert [(c.second, c.text) for c in comments] == [(D("12.00"), "Good anticipation"), (D("83.50"), "Feet slide here")]
    page = client.get(grade_url(assignment, world.student))
    assert b"1:23.50" in page.data and b'data-seek="83.50"' in page.data
    delete = client.post(f"/grading/comments/{comments[0].id}/delete")
    assert delete.status_code == 302 and db.session.scalar(select(db.func.count(TimedComment.id))) == 1


def render_partial(app, assignment, user) -> str:
    with app.test_request_context("/"):
        login_user(user)
        return render_template("grading/_student_grade.html", assignment=assignment).strip()


def test_students_see_nothing_before_release(app, world, assignment, video_submission, login):
    rubric = services.create_rubric(world.instructor, "R", "", [CriterionSpec("Timing", "", [
        LevelSpec("Great", D(4), "Every contact on the beat"), LevelSpec("Weak", D(1))])])
    assignment.rubric_id = rubric.id
    db.session.commit()
    level = rubric.criteria[0].levels[0]
    client = login(world.instructor)
    client.post(grade_url(assignment, world.student), content_type="multipart/form-data", data={
        "version": "0", "comment": "Lovely <b>arcs</b>", f"level-{rubric.criteria[0].id}": str(level.id),
        "files": [(io.BytesIO(b"x"), "notes.txt")]})
    client.post(f"/grading/submissions/{video_submission.id}/comments", data={"second": "3", "text": "Heel strike"})
    grade = grade_of(assignment, world.student)
    client.post(f"/grading/grades/{grade.id}/penalty", data={"penalty-penalty": "10", "penalty-reason": "Two days late"})
    assert services.released_grade(assignment, world.student.id) is None
    assert render_partial(app, assignment, world.student) == ""
    assert client.post(f"/grading/assignments/{assignment.id}/release").status_code == 302
    html = render_partial(app, assignment, world.student)
    assert "90.00" in html and "10.00 %" in html and "100.00" in html  # final, penalty, raw
    assert "Great" in html and "Every contact on the beat" in html
    assert "Lovely &lt;b&gt;arcs&lt;/b&gt;" in html and "notes.txt" in html
    assert "0:03.00" in html and "Heel strike" in html
    assert render_partial(app, assignment, world.student2) == ""  # nothing graded for them


def test_state_changes_need_the_csrf_token(app_with, world, assignment):
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = lambda html: re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()  # noqa: E731
    client.post("/login", data={"login": world.instructor.email, "password": "correct-horse-battery",
                                "csrf_token": token(client.get("/login").data)})
    url = grade_url(assignment, world.student)
    assert client.post(url, data={"score": "50", "version": "0"}).status_code == 400
    assert client.post(f"/grading/assignments/{assignment.id}/release").status_code == 400
    assert grade_of(assignment, world.student) is None
    page = client.get(url)
    assert client.post(url, data={"score": "50", "version": "0", "csrf_token": token(page.data)}).status_code == 302
    assert grade_of(assignment, world.student).raw_score == D("50.00")


def test_the_student_assignment_page_shows_the_grade_only_after_release(app, world, assignment, login):
    client = login(world.instructor)
    client.post(grade_url(assignment, world.student), data={"score": "88", "comment": "Clean arcs", "version": "0"})
    student = login(world.student)
    before = student.get(f"/assignments/{assignment.id}")
    assert before.status_code == 200 and b"Your grade" not in before.data and b"88.00" not in before.data
    client.post(f"/grading/assignments/{assignment.id}/release")
    after = student.get(f"/assignments/{assignment.id}")
    assert b"Your grade" in after.data and b"88.00" in after.data and b"Clean arcs" in after.data
    assert b"Your grade" not in login(world.student2).get(f"/assignments/{assignment.id}").data


def test_graders_play_a_ready_build_in_the_sandbox_iframe(app, world, assignment, login):
    from lms.assignments.models import BuildState, GameBuild

    submission = make_submission(assignment, world.student, kind=SubmissionKind.GAME, text=None)
    db.session.add(GameBuild(submission_id=submission.id, archive_key="builds/archives/x", state=BuildState.READY,
                             prefix="builds/1/attempt-1-ab", entry="index.html", file_count=2, total_bytes=10))
    db.session.commit()
    page = login(world.assistant).get(
        f"/grading/assignments/{assignment.id}/students/{world.student.id}").get_data(as_text=True)
    frame = page[page.index("<iframe"):page.index("</iframe>")]
    assert f'src="{app.config["SANDBOX_ORIGIN"]}/b/' in frame
    assert 'sandbox="allow-scripts allow-pointer-lock"' in frame and "allow-same-origin" not in frame


def test_a_feedback_image_that_is_a_pixel_flood_is_refused_and_nothing_saved(app, world, assignment, login):
    from tests.images import png_header

    client = login(world.instructor)
    response = client.post(grade_url(assignment, world.student), content_type="multipart/form-data", data={
        "score": "90", "version": "0", "files": [(io.BytesIO(png_header(60_000, 60_000)), "marked-up.png")]},
        follow_redirects=True)
    assert "Scale it down" in response.get_data(as_text=True)
    assert db.session.scalars(select(FeedbackFile)).all() == [] and grade_of(assignment, world.student) is None
