"""Three real `flask lms worker` processes on PostgreSQL and S3 share 30 transcodes; one is killed
with SIGKILL in the middle of a job. Its job is taken over once the lease runs out, every video is
published exactly once, and the bucket holds exactly the published renditions."""
from __future__ import annotations

import os
import re
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.catalog.models import Lesson
from lms.db import utcnow
from lms.extensions import db
from lms.jobs.models import Job, JobState, WorkerHeartbeat
from lms.media import ffmpeg
from lms.storage import get_storage
from lms.video import services
from lms.video.models import Video, VideoState
from tests.workers import WorkerProcess, media_processes, wait_for

# The PostgreSQL half only: SQLite has no concurrent writers across machines, which is the point here.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

VIDEOS = 30
LEASE_SECONDS = 3  # short, so the killed worker's job is taken over within seconds
DEADLINE_SECONDS = 240


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two seconds of 160x90 with a tone: below 360p the ladder has one video rung (plus audio)."""
    path = tmp_path_factory.mktemp("clips") / "tiny.mp4"
    ffmpeg.synthesize(path, seconds=2, width=160, height=90, fps=15)
    return path


@pytest.fixture
def scratch(tmp_path):
    """The workers' TMPDIR: S3 downloads and outputs are staged here, so leftovers can be counted."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


@pytest.fixture
def workers(app, tmp_path, scratch):
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        started.append(WorkerProcess(app, tmp_path, name, lease_seconds=LEASE_SECONDS, scratch=scratch))
        return started[-1]

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.signal_group(signal.SIGCONT)  # in case the test stopped with it frozen
            w.signal_group(signal.SIGKILL)
        w.proc.wait(timeout=10)
    for pid in media_processes(str(scratch)):  # an encoder that outlived its worker (a failure below)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def uploaded_videos(make, clip) -> list[Video]:
    """VIDEOS lessons with a video each, stored in the bucket through the upload service."""
    instructor = make.user(Role.INSTRUCTOR)
    course = make.course()
    module = course.modules[0]
    for n in range(1, VIDEOS):
        db.session.add(Lesson(course_id=course.id, module_id=module.id, key=f"lesson-{n}",
                              title_en=f"Lesson {n}", minutes=5, position=n))
    db.session.commit()
    videos = []
    for lesson in module.lessons:
        with clip.open("rb") as stream:
            videos.append(services.attach_upload(lesson, instructor.id, stream, "tiny.mp4", 10**8))
        db.session.commit()
    assert len(videos) == VIDEOS
    return videos


def committed(statement):
    """What other processes committed: end the test's own transaction first."""
    db.session.rollback()
    return db.session.execute(statement)


def running_job_of(worker_id: str):
    return committed(select(Job.id, Job.attempts, Job.lease_until).where(
        Job.worker_id == worker_id, Job.state == JobState.RUNNING)).first()


def kill_mid_job(victim: WorkerProcess, timeout: float = 60):
    """SIGKILL the worker while it holds a running job; returns that job's (id, attempts, lease_until).

    The worker is frozen (SIGSTOP) before the check, so the job it is seen running is the job it
    dies in: it cannot finish in between. If it was between jobs, it is thawed and we try again.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert victim.proc.poll() is None, victim.output()
        if running_job_of(victim.id) is None:
            time.sleep(0.01)
            continue
        victim.signal_group(signal.SIGSTOP)
        time.sleep(0.2)  # a COMMIT it sent just before freezing lands now, and shows below
        job = running_job_of(victim.id)
        if job is not None:
            victim.signal_group(signal.SIGKILL)
            assert victim.proc.wait(timeout=10) == -signal.SIGKILL
            assert running_job_of(victim.id) == job  # died holding it, lease unchanged
            return job
        victim.signal_group(signal.SIGCONT)
    pytest.fail(f"worker {victim.id} never ran a job:\n{victim.output()}")


def test_three_workers_share_thirty_transcodes_and_survive_a_killed_worker(app, make, clip, workers,
                                                                             scratch):
    started_at = time.monotonic()
    videos = uploaded_videos(make, clip)
    video_ids = [v.id for v in videos]
    job_ids = [v.job_id for v in videos]
    pool = [workers(f"worker-{n}") for n in range(3)]
    for w in pool:
        w.wait_started()
    victim, survivors = pool[0], pool[1:]

    killed_id, attempts, lease_until = kill_mid_job(victim)
    assert attempts == 1
    video_at_kill = committed(select(Video.state, Video.published_prefix).where(Video.job_id == killed_id)).one()
    victim_done = committed(select(WorkerHeartbeat.jobs_done).where(WorkerHeartbeat.worker_id == victim.id)).scalar()

    # Watch until everything is done: a video's published prefix must never change once set (that
    # would be a second publish), and the dead worker's job must stay its own until the lease ends.
    first_prefix: dict[int, str] = {}
    republished: list[tuple[int, str, str]] = []
    held_until = taken_at = None
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        for w in survivors:
            assert w.proc.poll() is None, f"a worker died:\n{w.output()}"
        before = utcnow()
        owner = committed(select(Job.worker_id).where(Job.id == killed_id)).scalar()
        after = utcnow()
        if owner == victim.id:
            held_until = before
        elif taken_at is None:
            taken_at = after
        for video_id, prefix in committed(select(Video.id, Video.published_prefix).where(Video.id.in_(video_ids))):
            if prefix is not None and first_prefix.setdefault(video_id, prefix) != prefix:
                republished.append((video_id, first_prefix[video_id], prefix))
        states = committed(select(Job.state).where(Job.id.in_(job_ids))).scalars().all()
        if all(s in (JobState.DONE, JobState.DEAD) for s in states):
            break
        assert time.monotonic() < deadline, (
            f"not done in {DEADLINE_SECONDS}s: {sorted(map(str, states))}\n" + "\n".join(w.output() for w in survivors))
        time.sleep(0.1)
    for w in survivors:
        w.proc.send_signal(signal.SIGTERM)
    for w in survivors:
        assert w.proc.wait(timeout=20) == 0, w.output()

    # Every job is done, once: the killed one on a second attempt by a survivor, the others on their first.
    jobs = {j.id: j for j in committed(select(Job).where(Job.id.in_(job_ids))).scalars()}
    assert {j.state for j in jobs.values()} == {JobState.DONE}, {j.id: j.last_error for j in jobs.values()}
    killed = jobs[killed_id]
    assert killed.attempts == 2 and killed.worker_id in {w.id for w in survivors}
    assert {j.id: j.attempts for j in jobs.values() if j.id != killed_id} == {
        j: 1 for j in job_ids if j != killed_id}, "a live worker's lease ran out: a job ran twice"
    assert {j.worker_id for j in jobs.values()} <= {w.id for w in pool}
    # Taken over only after the dead worker's lease ran out (to within one poll of this loop).
    assert taken_at is not None and taken_at >= lease_until
    assert held_until is not None and held_until >= lease_until - timedelta(seconds=1), (held_until, lease_until)
    # Each execution was counted by exactly one worker: no job was handled twice (the jobs are the
    # transcodes, each video's "ready" notification and perhaps the periodic checks).
    done = committed(select(Job.kind).where(Job.state == JobState.DONE)).scalars().all()
    assert done.count("transcode") == VIDEOS
    assert sum(w.jobs_run() for w in survivors) + victim_done == len(done)
    assert republished == [], "a video was published twice"

    # Every video is ready, its lesson points at it, and the bucket holds exactly its published ladder.
    storage = get_storage()
    rows = committed(select(Video).where(Video.id.in_(video_ids))).scalars().all()
    for video in rows:
        assert video.state == VideoState.READY, (video.id, video.error)
        assert video.lesson.video_id == video.id
        assert video.renditions == ["90p", "audio"] and abs(video.duration - 2.0) < 0.2
        assert first_prefix[video.id] == video.published_prefix
        attempt = int(re.search(r"/attempt-(\d+)-[0-9a-f]{8}$", video.published_prefix).group(1))
        if video.job_id == killed_id and video_at_kill.state == VideoState.READY:
            # It died after publishing, before marking its job done: the takeover changed nothing.
            assert video.published_prefix == video_at_kill.published_prefix and attempt == 1
        else:
            assert attempt == jobs[video.job_id].attempts
        assert storage.list_prefixes(f"videos/{video.id}/renditions") == [video.published_prefix]
        assert_ladder_stored(storage, video.published_prefix)
        assert storage.exists(video.original_key)  # the original is kept

    # The survivors cleaned up their staging folders; only the killed worker's may remain.
    leftovers = sorted(p.name for p in scratch.iterdir())
    assert len(leftovers) <= 2 and all(name.startswith("lms-s3-") for name in leftovers), leftovers
    assert wait_for(lambda: not media_processes(str(scratch)), 5), "an encoder outlived its worker"
    print(f"\n{VIDEOS} transcodes on 3 workers in {time.monotonic() - started_at:.1f}s; the killed worker's "
          f"job (video {video_at_kill.state}) was taken over {(taken_at - lease_until).total_seconds():.1f}s "
          "after its lease ended")


def assert_ladder_stored(storage, prefix: str) -> None:
    """master.m3u8, each variant playlist and every segment it names, and the poster, in the bucket."""
    master = storage.read_bytes(f"{prefix}/master.m3u8", max_bytes=65536).decode()
    variants = re.findall(r"^(\w+)/index\.m3u8$", master, re.M) + re.findall(r'URI="(\w+)/index\.m3u8"', master)
    assert variants == ["90p", "audio"], master
    for variant in variants:
        playlist = storage.read_bytes(f"{prefix}/{variant}/index.m3u8", max_bytes=65536).decode()
        assert playlist.rstrip().endswith("#EXT-X-ENDLIST"), playlist
        segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
        assert segments, playlist
        for segment in segments:
            assert storage.size(f"{prefix}/{variant}/{segment}") > 0
    assert storage.size(f"{prefix}/poster.jpg") > 0
