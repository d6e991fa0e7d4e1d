"""Database outages under real `flask lms worker` processes on a PostgreSQL cluster of this module's
own, stopped and started again mid-test: an idle worker waits the outage out, and a transcode that
finishes while the database is down publishes on its first attempt once it is back."""
from __future__ import annotations

import signal

import pytest

from lms.extensions import db
from lms.jobs import queue
from lms.jobs.models import Job, JobState
from lms.video.models import Video, VideoState
from tests.conftest import on_private_postgres, outage
from tests.jobs.test_worker_processes import clip, fresh, uploaded, wait_mid_transcode  # noqa: F401 - fixtures
from tests.workers import WorkerProcess, wait_for


app, cluster = on_private_postgres()


@pytest.fixture
def worker(app, tmp_path):
    w = WorkerProcess(app, tmp_path, "worker", lease_seconds=30)
    yield w
    w.stop()


def test_an_idle_worker_waits_out_a_database_outage_and_carries_on(app, cluster, worker):
    worker.wait_started()
    outage(cluster)
    assert wait_for(lambda: worker.output().count("database unavailable") >= 2, 30), worker.output()
    assert worker.proc.poll() is None, f"the worker exited during the outage:\n{worker.output()}"
    cluster.start_server()
    job_id = queue.enqueue("test.kind-nobody-handles", {}).id
    db.session.commit()
    assert wait_for(lambda: fresh(Job, job_id).state == JobState.DEAD, 30), worker.output()
    assert "No handler" in fresh(Job, job_id).last_error
    assert "database reachable again" in worker.output()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=15) == 0, worker.output()


def test_a_transcode_finished_during_an_outage_publishes_on_its_first_attempt(app, cluster, worker, uploaded):
    worker.wait_started()
    wait_mid_transcode(app, uploaded, worker)
    outage(cluster)
    # ffmpeg goes on without the database; publishing waits for it.
    assert wait_for(lambda: "database unavailable while publishing" in worker.output(), 60), worker.output()
    cluster.start_server()
    assert wait_for(lambda: fresh(Video, uploaded.id).state != VideoState.PROCESSING, 60), worker.output()
    video, job = fresh(Video, uploaded.id), fresh(Job, uploaded.job_id)
    assert video.state == VideoState.READY and video.lesson.video_id == video.id, (video.error, worker.output())
    assert wait_for(lambda: fresh(Job, uploaded.job_id).state == JobState.DONE, 30), worker.output()
    job = fresh(Job, uploaded.job_id)
    assert (job.attempts, job.last_error) == (1, None), worker.output()
    assert worker.proc.poll() is None
