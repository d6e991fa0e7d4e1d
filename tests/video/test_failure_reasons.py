"""What an instructor reads when a video is not ready: a short sentence in their language, never
ffmpeg's output or the server's folders; admins get the tool's words without the folders."""
from __future__ import annotations

from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job
from tests.video.conftest import login, run_jobs, upload

STDERR = ("MediaToolError: ffmpeg exited with 1: [hls @ 0x5601] Failed to open file "
          "'/srv/kakehashi/media/videos/7/renditions/attempt-1-ab12/360p/seg_00003.ts': "
          "No space left on device\n" + "frame= 12 fps=0.0 q=28.0 size= 256kB\n" * 40)


def test_a_rejected_file_is_explained_in_the_instructors_language(app, world, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("#EXTM3U\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data\n#EXT-X-ENDLIST\n")
    video = upload(world.lesson, world.instructor, fake)
    run_jobs(app)
    client = login(app, world.instructor)
    client.post("/account", data={"locale": "ja"})
    error = client.get(f"/authoring/videos/{video.id}/status").json["error"]
    assert "MP4" in error and not error.isascii(), error  # the Japanese sentence
    assert "@" not in error and "/" not in error and "whitelist" not in error
    admin_view = db.session.get(Job, video.job_id).last_error
    assert "not a video we can read" in admin_view and "Invalid data found" in admin_view  # the detail, for admins
    assert app.config["MEDIA_ROOT"] not in admin_view


def test_a_full_disk_reads_as_storage_full_and_admins_see_no_server_folders(app, world, clip):
    video = upload(world.lesson, world.instructor, clip)
    job_id = queue.claim("worker-x", 30)
    assert job_id == video.job_id
    queue.fail(job_id, "worker-x", STDERR)  # as the worker records a failed attempt
    db.session.commit()
    client = login(app, world.instructor)
    status = client.get(f"/authoring/videos/{video.id}/status").json
    assert status["state"] == "retrying"
    assert status["error"] == ("The server's storage is full, so the video could not be processed. "
                               "It will be tried again automatically.")
    admin_view = db.session.get(Job, job_id).last_error
    assert "/srv/kakehashi" not in admin_view and "seg_00003.ts': No space left on device" in admin_view
