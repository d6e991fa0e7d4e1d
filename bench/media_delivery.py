"""Media delivery benchmark (issue 7): one published ladder's segments to N concurrent players, loopback.

The ladder is made once (a 720p testsrc2 clip through the real worker); then, per round, N keep-alive
clients fetch its video segments for --seconds, each way in turn:
  (c) a static file server on the same files: nginx if installed, else gunicorn + a WSGI file app (the limit);
  (b3) production on disk: the app (LocalStorage, LMS_MEDIA_SECURE_LINK_*) rewrites each client's variant
      playlist, fetched through nginx, into secure_link URLs; the clients fetch those from nginx running
      deploy/nginx.conf.example, which checks each signature and serves the file: no Python per segment;
  (b3-app) the app's share of (b3): those signed playlists under load, through nginx;
  (b) production on S3: the app (STORAGE=s3, moto) rewrites playlists into presigned URLs; the clients
      fetch those from moto_server, its own process. moto is a stand-in for S3, not S3's speed, so
      (b-app) measures the app's share apart: rewritten playlists under load, presigning per segment;
  (a) the app route on LocalStorage: logged-in students (own cookie and token), /media/<token>/<rung>/seg_N.ts.
The load is wrk if installed (C, not the bottleneck), else processes of Python threads. Prints req/s,
MB/s, p50/p95 latency, CPU of servers and client, and ratios to (c) (target: b3/c >= 0.9). From the root:

    .venv/bin/python bench/media_delivery.py [--clients 32] [--seconds 10] [--repeat 1] [--keep]

Servers and load are in delivery_servers.py and delivery_load.py.
"""
from __future__ import annotations

import argparse
import functools
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark this checkout (see bench/transcode.py)

from deadline_spike import PASSWORD, Server, Student, free_port, http_request, in_pool  # noqa: E402
from delivery_load import MB, check, measure, python_run, wrk_run  # noqa: E402
from delivery_servers import Proc, start_nginx  # noqa: E402
from transcode import make_app, make_lesson, run_pipeline  # noqa: E402

from lms.media import ffmpeg  # noqa: E402

TARGET = 0.9
CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
LINK_PREFIX = "/protected-media"  # as deploy/nginx.conf.example's location


# ---------------------------------------------------------------- the world


def make_students(app, n: int) -> list[Student]:
    from lms.auth import services as auth_services
    from lms.auth.models import Role
    from lms.extensions import db

    saved = auth_services.hash_password
    auth_services.hash_password = functools.cache(saved)  # one scrypt for all, as the tests do
    try:
        with app.app_context():
            students = []
            for i in range(n):
                user, _ = auth_services.create_user(email=f"md-{i:05d}@bench.test", name_latin=f"Viewer {i:05d}",
                                                    role=Role.STUDENT, password=PASSWORD, student_number=f"M{i:05d}")
                user.must_change_password = False
                db.session.flush()
                students.append(Student(i, user.id, user.email))
            db.session.commit()
            db.engine.dispose()
    finally:
        auth_services.hash_password = saved
    return students


def sign_cost(sign, n: int = 1000) -> float:
    """Seconds per signed segment URL, in-process, as the playlist rewrite makes them."""
    sign()  # botocore's lazy loading
    best = float("inf")
    for _ in range(3):  # the best of three: the least of the shared machine's noise
        t0 = time.perf_counter()
        for _ in range(n):
            sign()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def signed_links(port: int, playlists: list[tuple[str, dict]], scheme: str) -> list[dict[str, str]]:
    """Each playlist's segment lines as {"<rung>/seg_N.ts": link}, from the app's own rewrite."""
    out = []
    for path, headers in playlists:
        status, _, body = http_request(port, "GET", path, headers=headers)
        links = [x for x in body.decode().splitlines() if x.startswith(scheme)]
        if status != 200 or not links:
            raise SystemExit(f"playlist {path[:80]} on port {port}: {status} {body[:200]!r}")
        rung = path.rsplit("/", 2)[1]
        out.append({f"{rung}/{urlsplit(u).path.rsplit('/', 1)[1]}": u for u in links})
    return out


def build(args, work: Path, procs: list) -> dict:
    """The ladder, N logged-in students, moto holding the same files, the servers; returns the ways."""
    from lms.extensions import db
    from lms.storage.s3 import S3Storage
    from lms.storage.secure_link import SecureLink
    from lms.video.media_access import media_url
    from lms.video.models import Video

    app = make_app(work)
    ffmpeg.synthesize(work / "source.mp4", seconds=args.clip, width=1280, height=720, fps=30, timeout=600)
    _, _, out = run_pipeline(app, make_lesson(app), work / "source.mp4")
    with app.app_context():
        video = db.session.scalars(db.select(Video)).one()
        video_id, prefix, rungs = video.id, video.published_prefix, [r for r in video.renditions if r != "audio"]
    segments = [f"{r}/{p.name}" for r in rungs for p in sorted((out / r).glob("seg_*.ts"))]
    files = [out / s for s in segments]
    sizes = [f.stat().st_size for f in files]
    mean = sum(sizes) / len(sizes)
    print(f"ladder: {args.clip:g} s 720p30 testsrc2 through the worker; {len(segments)} video segments "
          f"({', '.join(rungs)}), {min(sizes) / MB:.2f}-{max(sizes) / MB:.2f} MB, mean {mean / MB:.2f} MB", flush=True)
    students = make_students(app, args.clients)
    media_root, secret = Path(app.config["MEDIA_ROOT"]), secrets.token_urlsafe(32)
    env = {"LMS_DATABASE_URL": app.config["DATABASE_URL"], "LMS_SECRET_KEY": app.config["SECRET_KEY"],
           "LMS_MEDIA_ROOT": str(media_root), "LMS_INSTANCE_PATH": str(work / "instance"),
           "LMS_COURSES_DIR": str(work / "courses")}
    moto_port = free_port()
    moto = Proc("moto", [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(moto_port)],
                moto_port, work / "moto.log")
    procs.append(moto)
    endpoint, bucket = f"http://127.0.0.1:{moto_port}", "kakehashi-bench"
    s3 = S3Storage(bucket, endpoint_url=endpoint)
    s3.client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in out.rglob("*") if p.is_file()):  # the same files, under the same keys
        with path.open("rb") as fh:
            s3.put_stream(f"{prefix}/{path.relative_to(out).as_posix()}", fh, max_bytes=1 << 30)
    # The deploy settings for local storage behind nginx (deploy/nginx.conf.example's header)
    secure_env = {**env, "LMS_MEDIA_SECURE_LINK_PREFIX": LINK_PREFIX, "LMS_MEDIA_SECURE_LINK_SECRET": secret,
                  "LMS_TRUSTED_PROXIES": "1"}
    s3_env = {**env, "LMS_STORAGE": "s3", "LMS_S3_BUCKET": bucket, "LMS_S3_ENDPOINT_URL": endpoint}
    local_app, secure_app, s3_app = (Server(name, "lms:create_app()", e, args, work) for name, e in
                                     (("app-local", env), ("app-secure-link", secure_env), ("app-s3", s3_env)))
    for server in (local_app, secure_app, s3_app):
        procs.append(server)
        server.start("/login")
    in_pool(lambda s: s.login(local_app.port), students)  # one SECRET_KEY: the cookies work on every app
    with app.test_request_context():
        tokens = {s.user_id: media_url(video_id, s.user_id, "x").rsplit("/", 1)[0] for s in students}

    def rotated(items: list, i: int) -> list:  # every student cycles through all segments from its own place
        return items[i % len(items):] + items[:i % len(items)]
    app_reqs = [(f"{tokens[s.user_id]}/{seg}", {"Host": "127.0.0.1", **s.cookie_header()})
                for i, s in enumerate(students) for seg in rotated(segments, i)]
    app_files = [f for i, _ in enumerate(students) for f in rotated(files, i)]
    playlists = [(f"{tokens[s.user_id]}/{r}/index.m3u8", {"Host": "127.0.0.1", **s.cookie_header()})
                 for s in students for r in rungs]
    # (b): moto's presigned URLs; any student's do (the bucket does not know students)
    presigned = {k: v for d in signed_links(s3_app.port, playlists[:len(rungs)], "http") for k, v in d.items()}
    s3_reqs = [(f"{urlsplit(presigned[s]).path}?{urlsplit(presigned[s]).query}", {"Host": f"127.0.0.1:{moto_port}"})
               for s in segments]
    static_reqs = [(f"/{prefix}/{seg}", {"Host": "127.0.0.1"}) for seg in segments]
    ways = {}
    if shutil.which("nginx"):
        ng, static_port, secure_port = start_nginx(work, media_root, 2, secure_app.port, secret)
        procs.append(ng)
        static_pids, static_name = ng.pids, "nginx 2 workers, sendfile"
        # (b3): every student's own playlists, fetched through nginx -> app as a player would
        links = signed_links(secure_port, playlists, LINK_PREFIX)
        mine = [{k: v for d in links[i * len(rungs):(i + 1) * len(rungs)] for k, v in d.items()}
                for i in range(len(students))]
        secure_reqs = [(mine[i][seg], {"Host": "127.0.0.1"}) for i in range(len(students))
                       for seg in rotated(segments, i)]
        # nginx must be checking the signatures it is timed on, not serving the folder openly
        if (status := http_request(secure_port, "GET", secure_reqs[0][0].replace("md5=", "md5=A"))[0]) != 403:
            raise SystemExit(f"(b3): a tampered secure_link answered {status}, not 403")
        ways["b3"] = ("(b3) production on disk: nginx secure_link", secure_port, secure_reqs, app_files, ng.pids)
        ways["b3-app"] = ("(b3-app) signed playlists, nginx -> app", secure_port, playlists, None,
                          lambda: secure_app.pids() + ng.pids())
    else:
        static = Server("static", "delivery_servers:static_app", {"STATIC_ROOT": str(media_root)},
                        args, work, extra=["--pythonpath", str(ROOT / "bench")])
        procs.append(static)
        static.start("/")
        static_port, static_pids, static_name = static.port, static.pids, "gunicorn + WSGI file app, sendfile"
        print("(b3) skipped: nginx is not installed (apt-get install nginx-light adds b3, and (c) on nginx)")
    ways = {"c": (f"(c) static: {static_name.split(',')[0]}", static_port, static_reqs, files, static_pids),
            **ways,
            "b": ("(b) production on S3: presigned, moto", moto_port, s3_reqs, files, moto.pids),
            "b-app": ("(b-app) the app's rewritten playlists", s3_app.port, playlists, None,
                      lambda: s3_app.pids() + moto.pids()),
            "a": ("(a) app route, LocalStorage, send_file", local_app.port, app_reqs, app_files, local_app.pids)}
    for label, port, reqs, expect, _ in ways.values():
        if expect:
            check(port, reqs, expect, label)
    print(f"servers on loopback: the app under gunicorn gthread {args.workers}x{args.threads}; moto_server (one "
          f"Python process; it answers `Connection: close`, so (b) reconnects per segment); {static_name}"
          + ("; (b3) is deploy/nginx.conf.example in the same nginx" if "b3" in ways else ""))
    s3_key, link = f"{prefix}/{segments[0]}", SecureLink(LINK_PREFIX, secret)
    return {"ways": ways, "mean": mean, "per_playlist": len(segments) // len(rungs), "rungs": len(rungs),
            "presign": sign_cost(lambda: s3.presigned_url(s3_key, expires=14400, content_type="video/mp2t")),
            "secure_link": sign_cost(lambda: link.url(s3_key, 14400))}


# ---------------------------------------------------------------- report


def line(label: str, r: dict) -> str:
    per_request = r["server_cpu"] / max(1, r["requests"]) * 1000
    return (f"{label:<44} {r['rps']:7.0f} {r['mbps']:7.0f} {r['p50'] * 1000:7.1f} {r['p95'] * 1000:7.1f}"
            f" {r['errors']:5.0f} {per_request:7.2f} {r['server_cpu']:6.1f} {r['client_cpu']:6.1f} {r['other_cpu']:6.1f}"
            + (f"  {r['note']}" if r.get("note") else ""))


HEADER = (f"{'way':<44} {'req/s':>7} {'MB/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errs':>5} {'ms/req':>7}"
          f" {'srv s':>6} {'cli s':>6} {'othr s':>6}")


def report(world: dict, results: dict, args) -> None:
    ways, repeat = world["ways"], args.repeat
    med = {k: {f: statistics.median(r[f] for r in v) for f in v[0] if f != "note"} for k, v in results.items()}
    if repeat > 1:
        print(f"\nmedians of {repeat} rounds\n{HEADER}")
        for key, r in med.items():
            print(line(ways[key][0], r))
    shown = [k for k in ("b3", "b", "a") if k in results]
    print("\nMB/s against (c), per round: " + "; ".join(
        f"{k}/c " + " ".join(f"{r['mbps'] / rc['mbps']:.2f}" for r, rc in zip(results[k], results["c"]))
        for k in shown))
    cpu = {k: r["server_cpu"] / max(1, r["requests"]) for k, r in med.items()}
    print("server CPU per segment against (c), steadier than throughput on a shared machine: "
          + "; ".join(f"{k}/c {cpu[k] / cpu['c']:.1f}x" for k in shown))
    ratio = {k: med[k]["mbps"] / med["c"]["mbps"] for k in shown}
    if "b3" in ratio:
        print(f"production on disk / static (b3/c) {ratio['b3']:.2f} (target >= {TARGET}: "
              f"{'met' if ratio['b3'] >= TARGET else 'NOT met'}); S3 path b/c {ratio['b']:.2f}; app route a/c "
              f"{ratio['a']:.2f}")
        pl = med["b3-app"]
        print(f"  the app signed {pl['rps']:.0f} playlists/s through nginx ({world['per_playlist']} segments each), "
              f"{pl['server_cpu'] / max(1, pl['requests']) * 1000:.1f} ms CPU per playlist (app + nginx); a "
              f"secure_link costs {world['secure_link'] * 1e6:.1f} us per segment in-process")
    else:
        print(f"production on disk (b3) not measured without nginx; S3 path b/c {ratio['b']:.2f}; a/c {ratio['a']:.2f}")
    if ratio["b"] < TARGET:
        print(f"  (b) is moto's speed, not S3's: moto_server is one Python process under one GIL (it used "
              f"{med['b']['server_cpu'] / args.seconds:.2f} cores for {med['b']['mbps']:.0f} MB/s) and closes the "
              "connection after every object; S3 serves objects from a fleet. The app's share of (b) is the playlist:")
    pl = med["b-app"]
    print(f"  the app rewrote {pl['rps']:.0f} playlists/s ({world['per_playlist']} segments each, each read from moto "
          f"first), {pl['server_cpu'] / max(1, pl['requests']) * 1000:.1f} ms CPU per playlist (app + moto); "
          f"presigning costs {world['presign'] * 1e6:.0f} us per segment in-process: "
          f"{world['presign'] * 900 * 1000:.0f} ms for a 1-hour lecture's rung (900 x 4 s), once per rung "
          f"a player opens ({world['rungs']} here), against {cpu['a'] * 1000:.1f} ms of app CPU per segment for (a)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive clients (32)")
    parser.add_argument("--seconds", type=float, default=10, help="load per way, s (10)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every way; medians reported (1)")
    parser.add_argument("--clip", type=float, default=20, help="source length, s (20; 720p30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4, as deploy/)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (2, as deploy/)")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--workdir", type=Path, help="a fresh folder is made inside it (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    args.worker_class = "gthread"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally`: stop the servers we started
    load = wrk_run if args.client == "wrk" else python_run
    work = Path(tempfile.mkdtemp(prefix="kakehashi-media-", dir=args.workdir))
    work.chmod(0o755)  # nginx's workers run as nobody when we are root
    os.environ.update(CREDS)  # boto3 here and in the servers we start
    print(f"kakehashi media-delivery benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    procs: list = []
    try:
        world = build(args, work, procs)
        print(f"load: {args.client}, {args.clients} clients, {args.seconds:g} s per way. ms/req and srv s: CPU of the "
              "server(s); cli s: the load generator's; othr s: everything else on the machine meanwhile")
        results: dict[str, list[dict]] = {k: [] for k in world["ways"]}
        for round_ in range(args.repeat):
            print(f"\nround {round_ + 1}/{args.repeat}\n{HEADER}", flush=True)
            for key, (label, port, reqs, expect, pids) in world["ways"].items():
                r = measure(load, port, reqs, pids, args, work, world["mean"] if expect else 0)
                results[key].append(r)
                print(line(label, r), flush=True)
        report(world, results, args)
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for p in reversed(procs):
            p.stop()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
