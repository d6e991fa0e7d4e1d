"""Transcode benchmark: our pipeline against the single-pass ffmpeg limit and a PeerTube-style run.

On a generated source (default 60 s 1080p30, testsrc2 with a sine tone), in one run:

  (a) our pipeline, from the job being enqueued (upload committed) to the video being published,
      run by the real worker (`Worker(app).run(drain=True)`) against a throwaway SQLite database;
  (b) the bare single-pass ladder command with the same rungs and settings: the limit;
  (c) one ffmpeg process per rung, one after another (each decodes the source again), as PeerTube does.

Prints wall and CPU seconds per case and the ratios a/b (target <= 1.05) and c/a (target >= 1.1).
CPU seconds are the children's (ffmpeg, ffprobe) plus this process's own, from getrusage deltas.
ffmpeg runs only through lms.media.ffmpeg. Run from the project root:

    .venv/bin/python bench/transcode.py [--seconds 60] [--repeat 1] [--keep]
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# Benchmark the checkout this file lives in. (Run as a script, sys.path[0] is bench/, and an editable
# install made before lms/ had its __init__.py resolves `lms` as a namespace package without it.)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchlib import migrated_app  # noqa: E402
from lms.media import ffmpeg  # noqa: E402
from lms.video.ladder import SEGMENT_SECONDS, plan_ladder  # noqa: E402

TIMEOUT_FACTOR = 20  # generous: the machine may be busy with other work; a timeout ends the run
A_TARGET, C_TARGET = 1.05, 1.1


# ---------------------------------------------------------------- measuring


@dataclass
class Usage:
    wall: float
    cpu_children: float
    cpu_self: float

    @property
    def cpu(self) -> float:
        return self.cpu_children + self.cpu_self

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.wall + other.wall, self.cpu_children + other.cpu_children,
                     self.cpu_self + other.cpu_self)


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


class Meter:
    """Wall clock plus CPU of this process and of its reaped children (ffmpeg.run waits for them)."""

    def __enter__(self) -> Meter:
        self.children0, self.self0 = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.usage = Usage(time.perf_counter() - self.t0,
                           _cpu(resource.RUSAGE_CHILDREN) - self.children0,
                           _cpu(resource.RUSAGE_SELF) - self.self0)


@dataclass
class Trace:
    """Where (a)'s time goes: (label, start, end, children CPU) relative to the enqueue."""
    t0: float = 0.0
    events: list[tuple[str, float, float, float]] = field(default_factory=list)

    def record(self, label: str, start: float, end: float, cpu: float = 0.0) -> None:
        self.events.append((label, start - self.t0, end - self.t0, cpu))


def _ffmpeg_label(argv: list[str]) -> str:
    if Path(argv[0]).name == "ffprobe":
        return "probe: tail check (ffprobe)" if "-read_intervals" in argv else "probe (ffprobe)"
    if "-frames:v" in argv:
        return "poster (ffmpeg)"
    if "hls" in argv:
        return "ladder (ffmpeg)"
    return "ffmpeg " + " ".join(argv[1:4])


class Instrumented:
    """Wraps ffmpeg.run, the master playlist writer, publish and the worker's claim to time them.

    Nothing in lms/ changes: the wrappers are set on the modules for the duration of case (a) only,
    call straight through, and cost microseconds.
    """

    def __init__(self, trace: Trace):
        self.trace = trace
        self.saved: list[tuple[object, str, object]] = []

    def _wrap(self, module, name: str, label) -> None:
        original = getattr(module, name)
        trace = self.trace

        def wrapper(*args, **kwargs):
            c0, t0 = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                trace.record(label(args) if callable(label) else label, t0, time.perf_counter(),
                             _cpu(resource.RUSAGE_CHILDREN) - c0)

        self.saved.append((module, name, original))
        setattr(module, name, wrapper)

    def __enter__(self) -> Instrumented:
        from lms.jobs import queue
        from lms.video import services, tasks

        self._wrap(ffmpeg, "run", lambda args: _ffmpeg_label(args[0]))
        self._wrap(tasks, "write_master", "master playlist")
        self._wrap(services, "publish", "publish (DB update)")
        self._wrap(queue, "claim", "claim (DB)")
        return self

    def __exit__(self, *exc) -> None:
        for module, name, original in reversed(self.saved):
            setattr(module, name, original)


# ---------------------------------------------------------------- the three cases


def make_app(work: Path):
    return migrated_app({"DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
                         "SECRET_KEY": "bench-secret-key-" + "x" * 32,
                         "MEDIA_ROOT": str(work / "media"), "INSTANCE_PATH": str(work / "instance"),
                         "COURSES_DIR": str(work / "courses"), "VIDEO_TIMEOUT_FACTOR": TIMEOUT_FACTOR})


def make_lesson(app) -> int:
    from lms.catalog.models import Course, Lesson, Module
    from lms.extensions import db

    with app.app_context():
        course = Course(code="BENCH1", title_en="Benchmark course", credits=Decimal("2"), hours=90)
        db.session.add(course)
        db.session.flush()
        module = Module(course_id=course.id, key="intro", title_en="Introduction", position=0)
        db.session.add(module)
        db.session.flush()
        lesson = Lesson(course_id=course.id, module_id=module.id, key="video", title_en="Video lesson",
                        body_md="", minutes=1, position=0)
        db.session.add(lesson)
        db.session.commit()
        return lesson.id


def run_pipeline(app, lesson_id: int, source: Path) -> tuple[Usage, Trace, Path]:
    """(a): upload and commit (not timed), then the worker from enqueued to published."""
    from lms.catalog.models import Lesson
    from lms.extensions import db
    from lms.jobs.worker import Worker
    from lms.storage import get_storage
    from lms.video import services
    from lms.video.models import Video, VideoState

    with app.app_context():
        lesson = db.session.get(Lesson, lesson_id)
        with source.open("rb") as stream:
            video = services.attach_upload(lesson, None, stream, source.name, services.max_upload_bytes())
        db.session.commit()
        video_id = video.id
    trace = Trace()
    with Instrumented(trace):
        with Meter() as meter:  # the job is enqueued: it committed just now
            trace.t0 = meter.t0
            jobs = Worker(app, lease_seconds=60).run(drain=True)
    trace.record("(published, worker returned)", meter.t0 + meter.usage.wall, meter.t0 + meter.usage.wall)
    with app.app_context():
        video = db.session.get(Video, video_id)
        if jobs != 1 or video.state != VideoState.READY:
            job = video.job
            raise SystemExit(f"(a) failed: {jobs} job(s) run, video {video.state}, error {video.error!r}, "
                             f"job {job.state if job else None}: {job.last_error if job else None!r}")
        out = get_storage().path(video.published_prefix)
    return meter.usage, trace, out


def run_bare(source: Path, out: Path, rungs, timeout: float) -> Usage:
    """(b): the single-pass ladder command on its own."""
    _fresh(out, rungs)
    argv = ffmpeg.hls_ladder_argv(source, out, rungs, segment_seconds=SEGMENT_SECONDS)
    with Meter() as meter:
        ffmpeg.run(argv, timeout=timeout)
    return meter.usage


def run_per_rung(source: Path, out: Path, rungs, timeout: float) -> tuple[Usage, list[tuple[str, Usage]]]:
    """(c): one process per rung (video rungs carry their audio; the audio rung is audio only)."""
    _fresh(out, rungs)
    parts = []
    for rung in rungs:
        argv = ffmpeg.hls_ladder_argv(source, out, [rung], segment_seconds=SEGMENT_SECONDS)
        with Meter() as meter:
            ffmpeg.run(argv, timeout=timeout)
        parts.append((rung.name, meter.usage))
    total = Usage(0.0, 0.0, 0.0)
    for _, usage in parts:
        total = total + usage
    return total, parts


def _fresh(out: Path, rungs) -> None:
    shutil.rmtree(out, ignore_errors=True)
    for rung in rungs:  # as transcode_hls does before it runs ffmpeg
        (out / rung.name).mkdir(parents=True, exist_ok=True)


def segment_counts(out: Path, rungs) -> str:
    return " ".join(f"{r.name}:{len(list((out / r.name).glob('seg_*.ts')))}" for r in rungs)


def output_mb(out: Path) -> float:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6


# ---------------------------------------------------------------- report


def median_usage(runs: list[Usage]) -> Usage:
    return Usage(statistics.median(u.wall for u in runs), statistics.median(u.cpu_children for u in runs),
                 statistics.median(u.cpu_self for u in runs))


def print_table(results: dict[str, list[Usage]]) -> dict[str, Usage]:
    names = {"a": "(a) our pipeline, enqueued -> published", "b": "(b) bare single-pass ladder (limit)",
             "c": "(c) one ffmpeg per rung, in sequence"}
    med = {k: median_usage(v) for k, v in results.items()}
    repeat = len(results["a"])
    print()
    print(f"{'case' + (f' (median of {repeat})' if repeat > 1 else ''):<44} {'wall s':>8} {'CPU s':>8}"
          f" {'ffmpeg':>8} {'python':>8} {'cores':>6}")
    for key in ("a", "b", "c"):
        u = med[key]
        print(f"{names[key]:<44} {u.wall:8.2f} {u.cpu:8.2f} {u.cpu_children:8.2f} {u.cpu_self:8.2f}"
              f" {u.cpu / u.wall:6.2f}")
    print("(CPU s = ffmpeg/ffprobe children + this Python process; cores = CPU s / wall s)")
    if repeat > 1:
        for key in ("a", "b", "c"):
            print(f"  {key} runs, wall s: " + ", ".join(f"{u.wall:.2f}" for u in results[key]))
        print("  per round, wall a/b: " + ", ".join(f"{a.wall / b.wall:.3f}" for a, b in zip(results["a"], results["b"]))
              + "; c/a: " + ", ".join(f"{c.wall / a.wall:.3f}" for c, a in zip(results["c"], results["a"])))
    print()
    print(f"{'ratio':<6} {'wall':>7} {'CPU':>7}  target")
    for label, num, den, target, ok in (("a/b", "a", "b", f"<= {A_TARGET}", lambda r: r <= A_TARGET),
                                        ("c/a", "c", "a", f">= {C_TARGET}", lambda r: r >= C_TARGET)):
        wall = med[num].wall / med[den].wall
        cpu = med[num].cpu / med[den].cpu
        verdict = f"wall {'met' if ok(wall) else 'NOT met'}, CPU {'met' if ok(cpu) else 'NOT met'}"
        print(f"{label:<6} {wall:7.3f} {cpu:7.3f}  {target}: {verdict}")
    return med


def print_trace(trace: Trace, wall: float) -> None:
    print("\nwhere (a)'s time goes (seconds from enqueue):")
    print(f"  {'step':<30} {'start':>8} {'end':>8} {'took':>8} {'ffmpeg CPU':>11}")
    covered = 0.0
    for label, start, end, cpu in trace.events:
        if label.startswith("("):
            print(f"  {label:<30} {'':>8} {end:8.3f}")
            continue
        covered += end - start
        print(f"  {label:<30} {start:8.3f} {end:8.3f} {end - start:8.3f} {cpu:11.2f}")
    print(f"  {'rest (worker, DB, commits)':<30} {'':>8} {'':>8} {wall - covered:8.3f}")


def print_overhead(trace: Trace, a_wall: float, b_wall: float) -> None:
    """(a) runs the very command (b) runs; what (a) spends outside it is the pipeline's own cost.
    Unlike a/b, that figure hardly moves with the load other work puts on the machine."""
    ladder = sum(end - start for label, start, end, _ in trace.events if label.startswith("ladder"))
    overhead = a_wall - ladder
    print(f"\n(a) outside the ladder command: {overhead:.2f} s wall = {overhead / b_wall:.1%} of (b);"
          f" a/b without the machine's load noise ~ {(b_wall + overhead) / b_wall:.3f}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="source length (default 60)")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of b, a, c; medians are reported")
    parser.add_argument("--workdir", type=Path, help="where to put the source, database and outputs "
                        "(a fresh folder is made inside it; default: the system temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kakehashi-bench-", dir=args.workdir))
    started = dt.datetime.now().astimezone()
    print(f"kakehashi transcode benchmark, {started:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {platform.machine()}, "
          f"Python {platform.python_version()}, {ffmpeg.run([shutil.which('ffmpeg') or 'ffmpeg', '-version'], timeout=10).split(chr(10))[0]}")
    print(f"load average at start: {_load()}")
    print(f"workdir: {work}")
    try:
        source = work / "source.mp4"
        with Meter() as meter:
            ffmpeg.synthesize(source, seconds=args.seconds, width=args.width, height=args.height, fps=args.fps,
                              audio=True, timeout=max(120.0, args.seconds * TIMEOUT_FACTOR))
        probe = ffmpeg.probe(source, max_duration=24 * 3600)
        rungs = plan_ladder(probe)
        timeout = max(120.0, probe.duration * TIMEOUT_FACTOR)
        print(f"source: testsrc2 + sine, {probe.width}x{probe.height} {probe.fps:g} fps, {probe.duration:.2f} s, "
              f"{probe.size / 1e6:.1f} MB (made in {meter.usage.wall:.1f} s)")
        print("ladder: " + ", ".join(f"{r.name} {r.width}x{r.height} {r.video_kbps}k+{r.audio_kbps}k"
                                     if not r.audio_only else f"{r.name} {r.audio_kbps}k" for r in rungs)
              + f"; {SEGMENT_SECONDS} s segments")

        app = make_app(work)
        lesson_id = make_lesson(app)
        results: dict[str, list[Usage]] = {"a": [], "b": [], "c": []}
        traces: list[Trace] = []
        for round_ in range(1, args.repeat + 1):
            tag = f"[{round_}/{args.repeat}] " if args.repeat > 1 else ""
            print(f"{tag}(b) bare ladder ... (load {_load()})", flush=True)
            results["b"].append(run_bare(source, work / "bare", rungs, timeout))
            print(f"{tag}    {results['b'][-1].wall:.2f} s; segments {segment_counts(work / 'bare', rungs)}, "
                  f"{output_mb(work / 'bare'):.1f} MB", flush=True)
            print(f"{tag}(a) pipeline ... (load {_load()})", flush=True)
            usage, trace, out = run_pipeline(app, lesson_id, source)
            results["a"].append(usage)
            traces.append(trace)
            print(f"{tag}    {usage.wall:.2f} s; segments {segment_counts(out, rungs)}, {output_mb(out):.1f} MB"
                  f" (with poster and master playlist)", flush=True)
            print(f"{tag}(c) one ffmpeg per rung ... (load {_load()})", flush=True)
            usage, parts = run_per_rung(source, work / "per-rung", rungs, timeout)
            results["c"].append(usage)
            print(f"{tag}    {usage.wall:.2f} s (" + ", ".join(f"{n} {u.wall:.1f}" for n, u in parts)
                  + f"); segments {segment_counts(work / 'per-rung', rungs)}, "
                  f"{output_mb(work / 'per-rung'):.1f} MB", flush=True)
        med = print_table(results)
        middle = min(range(len(traces)), key=lambda i: abs(results["a"][i].wall - med["a"].wall))
        print_trace(traces[middle], results["a"][middle].wall)
        print_overhead(traces[middle], results["a"][middle].wall, med["b"].wall)
        print(f"\nload average at end: {_load()}")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
