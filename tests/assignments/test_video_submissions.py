"""A video submission goes through the video pipeline and plays for its student and the staff only."""
import io
import re

from lms.extensions import db
from lms.jobs.worker import Worker
from lms.media import ffmpeg
from lms.video.models import Video
from tests.assignments.conftest import login, make_assignment


def test_video_submission_is_transcoded_and_plays_for_the_right_people(app, world, tmp_path):
    clip = tmp_path / "gameplay.mp4"
    ffmpeg.synthesize(clip, seconds=2, width=320, height=180, fps=25)
    assignment = make_assignment(world.offering, title="Gameplay video", kinds=["video"], allowed_extensions=[],
                                 max_file_bytes=10 * 1024 * 1024)
    student = login(app, world.student)
    response = student.post(f"/assignments/{assignment.id}/submit",
                            data={"kind": "video", "idempotency_key": "v1",
                                  "media": (io.BytesIO(clip.read_bytes()), "gameplay.mp4")})
    receipt_url = response.headers["Location"]
    assert "being prepared" in student.get(receipt_url).get_data(as_text=True)
    Worker(app, poll_seconds=0.1).run(drain=True)
    video = db.session.scalar(db.select(Video))
    assert video.state == "ready" and video.lesson_id is None and video.renditions == ["180p", "audio"]

    page = student.get(receipt_url).get_data(as_text=True)
    master = re.search(r'data-master="([^"]+)"', page).group(1)
    assert student.get(master).status_code == 200
    for who, allowed in (("instructor", True), ("assistant", True), ("other_student", False),
                         ("other_instructor", False)):
        client = login(app, getattr(world, who))
        own_page = client.get(receipt_url)
        if not allowed:
            assert own_page.status_code == 403
            assert client.get(master).status_code == 404  # the student's signed URL is theirs alone
            continue
        own_master = re.search(r'data-master="([^"]+)"', own_page.get_data(as_text=True)).group(1)
        assert client.get(own_master).status_code == 200, who
