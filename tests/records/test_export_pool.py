"""The cohort PDF export's process pool: the same zip as one process, cancellation, and SIGTERM to a
real worker mid-export, with no worker process left behind in any case."""
from __future__ import annotations

import io
import multiprocessing
import os
import signal
import tempfile
import zipfile
from pathlib import Path

import pytest

from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.jobs.worker import Cancelled, JobContext
from lms.records import export_jobs, exports
from tests.records import transcript_data
from tests.workers import WorkerProcess, wait_for


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(export_jobs.os, "cpu_count", lambda: 2)


def zip_of(app, ids, processes: int, ctx: JobContext | None = None) -> zipfile.ZipFile:
    app.config["EXPORT_PROCESSES"] = processes
    out = io.BytesIO()
    export_jobs.write_pdf_zip(ctx or JobContext(job_id=0, attempt=1, payload={}, worker_id="t"), ids, out)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_pool_writes_the_same_zip_as_one_process(app, make, two_cores):
    cohort = transcript_data.build(make, extra_students=4)
    ids = exports.cohort_student_ids(cohort.program.id, 2026)
    progress = []
    ctx = JobContext(job_id=0, attempt=1, payload={}, worker_id="t")
    ctx.report = lambda fraction, eta_seconds=None: progress.append(fraction)
    pooled, alone = zip_of(app, ids, 2, ctx), zip_of(app, ids, 1)
    assert pooled.namelist() == alone.namelist() and len(pooled.namelist()) == 5
    assert all(pooled.read(name).startswith(b"%PDF-") for name in pooled.namelist())
    assert progress == [n / 5 for n in range(1, 6)]
    assert multiprocessing.active_children() == []  # the pool's processes were joined


def test_a_cancelled_export_shuts_the_pool_down(app, make, two_cores):
    cohort = transcript_data.build(make, extra_students=6)
    ids = exports.cohort_student_ids(cohort.program.id, 2026)
    ctx = JobContext(job_id=0, attempt=1, payload={}, worker_id="t")
    ctx.report = lambda fraction, eta_seconds=None: ctx.cancel.set()  # cancelled after the first PDF
    with pytest.raises(Cancelled):
        zip_of(app, ids, 2, ctx)
    assert multiprocessing.active_children() == []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the pool needs two cores")
def test_sigterm_mid_export_hands_the_job_back_and_ends_the_pool(app, make, tmp_path):
    cohort = transcript_data.build(make, extra_students=150)
    job = export_jobs.start_export(cohort.program.id, 2026, "pdf", cohort.registrar.id)
    db.session.commit()
    w = WorkerProcess(app, tmp_path, "exporter", lease_seconds=5, scratch=Path(tempfile.mkdtemp(dir=tmp_path)))
    try:
        w.wait_started()
        pool = wait_for(lambda: len(children(w.proc.pid)) >= 2 or w.proc.poll() is not None, 60, interval=0.05)
        assert pool and w.proc.poll() is None, w.output()
        pids = children(w.proc.pid)
        w.proc.send_signal(signal.SIGTERM)  # to the worker alone, as `kill <pid>` does
        assert w.proc.wait(timeout=30) == 0, w.output()
    finally:
        w.stop()
    db.session.rollback()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert (job.state, job.attempts) == (JobState.QUEUED, 0), w.output()
    assert wait_for(lambda: not any(alive(pid) for pid in pids), 10), w.output()
