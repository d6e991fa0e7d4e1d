"""Video fixtures: a real clip made by ffmpeg, a course with staff and students, a published video."""
from __future__ import annotations

import pytest

from lms.auth.models import Role
from lms.extensions import db
from lms.jobs.worker import Worker
from lms.media import ffmpeg
from lms.video import services
from lms.video.models import Video


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """Three seconds of 640x360 test pattern with a tone: 360p, 240p and 144p rungs and the audio rendition."""
    path = tmp_path_factory.mktemp("clips") / "lecture.mp4"
    ffmpeg.synthesize(path, seconds=3, width=640, height=360, fps=25)
    return path


class World:
    pass


@pytest.fixture
def world(make):
    w = World()
    w.instructor = make.user(Role.INSTRUCTOR)
    w.assistant = make.user(Role.INSTRUCTOR)
    w.student = make.user(Role.STUDENT)
    w.other_student = make.user(Role.STUDENT)
    w.other_instructor = make.user(Role.INSTRUCTOR)
    w.registrar = make.user(Role.REGISTRAR)
    w.course = make.course()
    w.offering = make.offering(w.course, instructor=w.instructor, assistant=w.assistant, students=[w.student])
    make.offering(instructor=w.other_instructor, students=[w.other_student])
    w.lesson = w.course.modules[0].lessons[0]
    return w


def upload(lesson, uploader, path) -> Video:
    with open(path, "rb") as stream:
        video = services.attach_upload(lesson, uploader.id, stream, path.name, 10**9)
    db.session.commit()
    return video


def run_jobs(app) -> int:
    return Worker(app, lease_seconds=30, poll_seconds=0.1).run(drain=True)


@pytest.fixture
def published(app, world, clip) -> Video:
    video = upload(world.lesson, world.instructor, clip)
    run_jobs(app)
    db.session.refresh(video)
    assert video.state == "ready", video.error
    return video


def login(app, user):
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": "correct-horse-battery"})
    return client
