"""Real `flask lms worker` processes against the test's database: SIGTERM, and a worker killed
mid-transcode whose job another worker finishes, publishing the video exactly once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.media import ffmpeg
from lms.video import services
from lms.video.models import Video, VideoState
from tests.workers import ROOT, WorkerProcess, media_processes, wait_for

LEASE_SECONDS = 2


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "lecture.mp4"
    ffmpeg.synthesize(path, seconds=4, width=640, height=360, fps=25)
    return path


def fresh(model, row_id):
    """Read committed data: end the test session's transaction so other processes' writes show."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, row_id)


@pytest.fixture
def workers(app, tmp_path):
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        w = WorkerProcess(app, tmp_path, name, lease_seconds=LEASE_SECONDS)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
    for pid in media_processes(app.config["MEDIA_ROOT"]):  # an ffmpeg a killed worker left behind
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def uploaded(app, make, clip):
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course()
    lesson = course.modules[0].lessons[0]
    with clip.open("rb") as stream:
        video = services.attach_upload(lesson, instructor.id, stream, "lecture.mp4", 10**9)
    db.session.commit()
    return video


def renditions_dir(app, video_id: int) -> Path:
    return Path(app.config["MEDIA_ROOT"]) / "videos" / str(video_id) / "renditions"


def wait_mid_transcode(app, video: Video, w: WorkerProcess) -> Path:
    """Until the job runs and its ffmpeg ladder is writing into an attempt folder."""
    assert wait_for(lambda: fresh(Job, video.job_id).state == JobState.RUNNING
                    or w.proc.poll() is not None, 30, interval=0.02), w.output()
    job = fresh(Job, video.job_id)
    assert job.state == JobState.RUNNING and job.attempts == 1, (job.state, job.attempts, w.output())
    folder = renditions_dir(app, video.id)
    rung = wait_for(lambda: next(folder.glob("attempt-1-*/360p"), None), 30, interval=0.005)
    assert rung is not None, f"no transcode started:\n{w.output()}"
    return rung.parent


def test_sigterm_stops_an_idle_worker_promptly(app, workers):
    w = workers("idle")
    w.wait_started()
    time.sleep(0.3)  # in its polling loop
    started = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(timeout=10) == 0, w.output()
    assert time.monotonic() - started < 3
    assert f"worker {w.id} stopped after 0 job(s)" in w.output()


def test_sigterm_mid_transcode_hands_the_job_back_and_stops_ffmpeg(app, workers, uploaded):
    w = workers("worker")
    w.wait_started()
    attempt = wait_mid_transcode(app, uploaded, w)
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(timeout=15) == 0, w.output()
    job = fresh(Job, uploaded.job_id)
    assert (job.state, job.attempts, job.last_error) == (JobState.QUEUED, 0, None), w.output()
    video = fresh(Video, uploaded.id)
    assert video.state == VideoState.PROCESSING and video.lesson.video_id is None
    assert not attempt.exists()  # the partial output was removed
    assert media_processes(app.config["MEDIA_ROOT"]) == []  # its ffmpeg was stopped with it
    assert f"worker {w.id} stopped after 0 job(s)" in w.output()  # a job handed back was not done


def test_a_worker_killed_mid_transcode_is_taken_over_and_the_video_published_once(app, workers, uploaded):
    media_root = app.config["MEDIA_ROOT"]
    first = workers("worker-1")
    first.wait_started()
    partial = wait_mid_transcode(app, uploaded, first)
    first.signal_group(signal.SIGKILL)
    assert first.proc.wait(timeout=10) == -signal.SIGKILL
    orphans = media_processes(media_root)

    job = fresh(Job, uploaded.job_id)
    assert (job.state, job.attempts, job.worker_id) == (JobState.RUNNING, 1, first.id)
    video = fresh(Video, uploaded.id)
    assert video.state == VideoState.PROCESSING and video.lesson.video_id is None
    assert partial.exists()

    second = workers("worker-2")
    second.wait_started()
    ready = wait_for(lambda: fresh(Video, uploaded.id).state != VideoState.PROCESSING, 90, interval=0.2)
    assert ready, f"not published in time:\n{second.output()}"
    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(timeout=15) == 0, second.output()

    video = fresh(Video, uploaded.id)
    assert video.state == VideoState.READY, (video.error, second.output())
    assert video.lesson.video_id == video.id
    assert video.renditions == ["360p", "240p", "144p", "audio"]
    assert abs(video.duration - 4.0) < 0.2
    job = fresh(Job, uploaded.job_id)
    assert (job.state, job.attempts, job.worker_id, job.progress) == (JobState.DONE, 2, second.id, 1.0)
    # It may also have run the "video ready" notification and, idle, the periodic checks.
    db.session.rollback()
    done = [j.kind for j in db.session.scalars(select(Job).where(Job.worker_id == second.id,
                                                                  Job.state == JobState.DONE))]
    assert "transcode" in done and f"worker {second.id} stopped after {len(done)} job(s)" in second.output()

    folders = sorted(p.name for p in renditions_dir(app, video.id).iterdir())
    assert len(folders) == 1 and folders[0].startswith("attempt-2-"), folders
    assert video.published_prefix == f"videos/{video.id}/renditions/{folders[0]}"
    published = Path(media_root) / video.published_prefix
    assert (published / "master.m3u8").is_file()
    assert (published / "360p" / "index.m3u8").is_file() and (published / "audio" / "index.m3u8").is_file()
    assert not partial.exists()
    assert media_processes(media_root) == [], f"ffmpeg left running after the kill: {orphans}"


TRANSCODE_SCRIPT = """
import sys
from pathlib import Path
from lms.media import ffmpeg
from lms.video.ladder import SEGMENT_SECONDS, plan_ladder
src, out = Path(sys.argv[1]), Path(sys.argv[2])
probe = ffmpeg.probe(src, max_duration=3600)
ffmpeg.transcode_hls(src, out, plan_ladder(probe), duration=probe.duration,
                     segment_seconds=SEGMENT_SECONDS, timeout=600)
"""


def test_ffmpeg_does_not_outlive_a_killed_worker(tmp_path):
    src, out = tmp_path / "long.mp4", tmp_path / "out"
    ffmpeg.synthesize(src, seconds=30, width=640, height=360, fps=25)
    proc = subprocess.Popen([sys.executable, "-c", TRANSCODE_SCRIPT, str(src), str(out)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_for(lambda: next(out.glob("360p/seg_*.ts"), None) or proc.poll() is not None,
                        30, interval=0.01)
        assert proc.poll() is None, "the transcode ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert wait_for(lambda: not media_processes(str(out)), 1.5, interval=0.05), \
            "ffmpeg kept transcoding after its worker was killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for pid in media_processes(str(out)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
