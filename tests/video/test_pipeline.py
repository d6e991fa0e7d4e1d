"""From an instructor's upload to a published HLS ladder, with the state shown live."""
import re

from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.video.hls import read_media_playlist
from tests.video.conftest import login, run_jobs, upload


def test_upload_transcode_publish(app, world, clip):
    client = login(app, world.instructor)
    with open(clip, "rb") as fh:
        response = client.post(f"/authoring/lessons/{world.lesson.id}/video", data=fh.read(),
                               headers={"X-Upload-Name": "L%C3%A9cture%201.mp4", "Content-Type": "video/mp4"})
    assert response.status_code == 201
    status_url = response.json["status_url"]
    assert client.get(status_url).json["state"] == "queued"
    page = client.get(f"/authoring/lessons/{world.lesson.id}").get_data(as_text=True)
    assert "Lécture 1.mp4" in page and "Queued" in page

    assert run_jobs(app) == 2  # the transcode, then its "video ready" notification
    assert client.get(status_url).json == {"state": "ready", "percent": 100, "eta_seconds": 0, "error": None}
    db.session.expire_all()
    lesson = world.lesson
    video_id = response.json["video_id"]
    assert lesson.video_id == video_id
    from lms.video.models import Video

    video = db.session.get(Video, video_id)
    assert video.renditions == ["360p", "240p", "144p", "audio"]
    assert abs(video.duration - 3.0) < 0.2
    # The original is stored under a generated key, never the user's file name.
    assert re.fullmatch(r"videos/originals/[0-9a-f]{32}", video.original_key)
    folder = app.config["MEDIA_ROOT"] + "/" + video.published_prefix
    from pathlib import Path

    master = (Path(folder) / "master.m3u8").read_text()
    assert 'RESOLUTION=640x360' in master and 'CODECS="avc1.4d401e,mp4a.40.2"' in master
    assert sum(d for d, _ in read_media_playlist(Path(folder) / "360p" / "index.m3u8")) > 2.8
    assert (Path(folder) / "poster.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_rerunning_a_finished_job_changes_nothing(app, world, published):
    job = db.session.get(Job, published.job_id)
    prefix = published.published_prefix
    job.state, job.attempts = JobState.QUEUED, 0
    db.session.commit()
    run_jobs(app)
    db.session.expire_all()
    assert published.published_prefix == prefix
    renditions = list((__import__("pathlib").Path(app.config["MEDIA_ROOT"]) / f"videos/{published.id}/renditions").iterdir())
    assert len(renditions) == 1


def test_a_new_upload_replaces_the_video_only_when_ready(app, world, published, clip):
    second = upload(world.lesson, world.instructor, clip)
    db.session.expire_all()
    assert world.lesson.video_id == published.id  # students keep the old one meanwhile
    run_jobs(app)
    db.session.expire_all()
    assert world.lesson.video_id == second.id


def test_a_file_that_is_not_a_video_fails_with_a_reason_and_no_transcode(app, world, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("#EXTM3U\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data\n#EXT-X-ENDLIST\n")
    video = upload(world.lesson, world.instructor, fake)
    run_jobs(app)
    db.session.expire_all()
    assert video.state == "failed"
    assert db.session.get(Job, video.job_id).state == JobState.DEAD
    client = login(app, world.instructor)
    status = client.get(f"/authoring/videos/{video.id}/status").json
    assert status["state"] == "failed" and "not a video we can read" in status["error"]
    page = client.get(f"/authoring/lessons/{world.lesson.id}").get_data(as_text=True)
    assert "not a video we can read" in page and "Try again" in page
    renditions = __import__("pathlib").Path(app.config["MEDIA_ROOT"]) / f"videos/{video.id}/renditions"
    assert not renditions.exists() or not any(renditions.iterdir())
    assert world.lesson.video_id is None


def test_retry_button_queues_a_failed_video_again(app, world, tmp_path):
    fake = tmp_path / "broken.mp4"
    fake.write_bytes(b"\x00" * 1000)
    video = upload(world.lesson, world.instructor, fake)
    run_jobs(app)
    client = login(app, world.instructor)
    response = client.post(f"/authoring/videos/{video.id}/retry")
    assert response.status_code == 302
    assert client.get(f"/authoring/videos/{video.id}/status").json["state"] == "queued"
    db.session.expire_all()
    assert db.session.get(Job, video.job_id).attempts == 0
