"""Media delivery benchmark (issue 7): one published ladder's segments to N concurrent players, loopback.

The ladder is made once (a 720p testsrc2 clip through the real worker); then, per round, N keep-alive
clients fetch its video segments for --seconds, each way in turn:
  (c) a static file server on the same files: nginx if installed, else gunicorn + a WSGI file app (the limit);
  (b) production: the app (STORAGE=s3, moto) rewrites each variant playlist into presigned URLs; the
      clients fetch those from moto_server, its own process. moto is a stand-in for S3, not S3's speed, so
      (b-app) measures the app's share apart: rewritten playlists under load, presigning per segment;
  (b2) nginx in front of the app with X-Accel-Redirect (a bench-side shim renames Flask's X-Sendfile);
  (a) the app route on LocalStorage: logged-in students (own cookie and token), /media/<token>/<rung>/seg_N.ts.
The load is wrk if installed (C, not the bottleneck), else processes of Python threads. Prints req/s,
MB/s, p50/p95 latency, CPU of servers and client, and ratios to (c) (target: b/c >= 0.9). From the root:

    .venv/bin/python bench/media_delivery.py [--clients 32] [--seconds 10] [--repeat 1] [--keep]
"""
from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark this checkout (see bench/transcode.py)

from deadline_spike import (PASSWORD, Server, Student, _children, _cpu_seconds, free_port,  # noqa: E402
                            http_request, in_pool, machine_cpu)
from transcode import make_app, make_lesson, run_pipeline  # noqa: E402

from lms.media import ffmpeg  # noqa: E402

MB = 1e6  # MB/s in decimal megabytes, as network figures usually are
TARGET = 0.9
CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def accel_app():
    """lms:create_app() with Flask's X-Sendfile on, renamed to nginx's X-Accel-Redirect (gunicorn entry
    for b2). A deployment shim: lms/ itself is unchanged, so b2 shows what such a hand-off would buy."""
    from lms import create_app

    app = create_app()
    app.config["USE_X_SENDFILE"] = True
    root, inner = app.config["MEDIA_ROOT"], app.wsgi_app

    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            headers = [("X-Accel-Redirect", "/_accel/" + os.path.relpath(v, root)) if k == "X-Sendfile"
                       else (k, v) for k, v in headers]
            return start_response(status, headers, exc_info)
        return inner(environ, start)
    app.wsgi_app = wsgi
    return app


def static_app(environ, start_response):
    """The limit when nginx is absent: a file from STATIC_ROOT through gunicorn's sendfile wrapper."""
    path = os.path.join(os.environ["STATIC_ROOT"], environ["PATH_INFO"].lstrip("/"))
    if ".." in environ["PATH_INFO"] or not os.path.isfile(path):
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "video/mp2t"), ("Content-Length", str(os.path.getsize(path)))])
    return environ["wsgi.file_wrapper"](open(path, "rb"), 1 << 20)


# ---------------------------------------------------------------- processes besides gunicorn


class Proc:
    """A server we start (moto, nginx) on a loopback port: its pid tree and a clean stop."""

    def __init__(self, name: str, argv: list[str], port: int, log: Path):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        for _ in range(150):
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited with {self.proc.returncode}: {log.read_text()[-800:]}")
            try:
                http_request(port, "GET", "/", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{name} did not answer on port {port} within 30 s")

    def pids(self) -> list[int]:
        return [self.proc.pid, *_children(self.proc.pid)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


NGINX_CONF = """worker_processes {workers}; daemon off; pid {work}/nginx.pid; error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; keepalive_timeout 60;
  client_body_temp_path {t}/body; proxy_temp_path {t}/proxy; fastcgi_temp_path {t}/fcgi; uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;
  types {{ video/mp2t ts; application/vnd.apple.mpegurl m3u8; }}
  server {{ listen 127.0.0.1:{static}; root {media}; location / {{ }} }}
  upstream app {{ server 127.0.0.1:{app}; keepalive 64; }}
  server {{ listen 127.0.0.1:{accel}; location /_accel/ {{ internal; alias {media}/; }}
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host; }} }}
}}
"""


def start_nginx(work: Path, media: Path, workers: int, app_port: int) -> tuple[Proc, int, int]:
    """nginx: (c) on one port, (b2)'s proxy on another; its temp folders in the work folder (no root needed)."""
    static, accel, conf = free_port(), free_port(), work / "nginx.conf"
    (work / "nginx-tmp").mkdir()
    conf.write_text(NGINX_CONF.format(workers=workers, work=work, t=work / "nginx-tmp", media=media, static=static,
                                      app=app_port, accel=accel))
    return Proc("nginx", [shutil.which("nginx"), "-p", str(work), "-c", str(conf)], static,
                work / "nginx.log"), static, accel


# ---------------------------------------------------------------- load


def wrk_run(port: int, reqs: list[tuple[str, dict]], clients: int, seconds: float, work: Path) -> dict:
    """wrk cycling through reqs (path, headers); each thread starts at its own place in the list."""
    script = work / "wrk.lua"
    table = ",\n".join("{" + json.dumps(path) + ", {" + ", ".join(f"[{json.dumps(k)}]={json.dumps(v)}"
                       for k, v in headers.items()) + "}}" for path, headers in reqs)
    script.write_text(f"""local list = {{ {table} }}
local reqs, n = {{}}, 0
setup = function(thread) thread:set("offset", n); n = n + 7 end
init = function(args)
  for k, r in ipairs(list) do reqs[k] = wrk.format("GET", r[1], r[2]) end
  i = (offset or 0) % #reqs
end
request = function() i = i % #reqs + 1; return reqs[i] end
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", s.requests, s.bytes, s.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(95)))
end
""")
    out = subprocess.run(["wrk", f"-t{max(1, min(2, clients))}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s",
                          "-s", str(script), f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                         timeout=seconds + 60)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    n, nbytes, micros, errors, bad, p50, p95 = (int(x) for x in line.split()[1:])
    return {"requests": n, "bytes": nbytes, "seconds": micros / 1e6, "errors": errors + bad,
            "p50": p50 / 1e6, "p95": p95 / 1e6}


def _py_connection(port: int, reqs: list, end: float, out: list) -> None:
    """One keep-alive client (http.client reopens the connection when the server closes it, as moto does
    after every object), reading each body into one scratch buffer."""
    conn, buf = http.client.HTTPConnection("127.0.0.1", port, timeout=30), memoryview(bytearray(1 << 20))
    lat, n, nbytes, errors = [], 0, 0, 0
    try:
        while time.perf_counter() < end:
            path, headers = reqs[n % len(reqs)]
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            while k := resp.readinto(buf):
                nbytes += k
            lat.append(time.perf_counter() - t0)
            n, errors = n + 1, errors + (resp.status != 200)
    except OSError:
        errors += 1
    out.append((lat, n, nbytes, errors))


def _py_process(port: int, lists: list[list], end: float) -> list:
    out: list = []
    threads = [threading.Thread(target=_py_connection, args=(port, reqs, end, out)) for reqs in lists]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def python_run(port: int, reqs: list[tuple[str, dict]], clients: int, seconds: float, work: Path) -> dict:
    """The fallback load: a process per CPU, each with threads, one keep-alive connection per thread."""
    cpus = os.cpu_count() or 1
    lists = [reqs[c % len(reqs):] + reqs[:c % len(reqs)] for c in range(clients)]
    t0 = time.perf_counter()
    with Pool(cpus) as pool:
        parts = [r for chunk in pool.starmap(_py_process, [(port, lists[p::cpus], t0 + seconds) for p in range(cpus)])
                 for r in chunk]
    lat = sorted(x for part in parts for x in part[0])
    return {"requests": sum(p[1] for p in parts), "bytes": sum(p[2] for p in parts),
            "seconds": time.perf_counter() - t0, "errors": sum(p[3] for p in parts),
            "p50": lat[len(lat) // 2] if lat else 0, "p95": lat[int(len(lat) * 0.95)] if lat else 0}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(load, port: int, reqs, pids, args, work: Path, mean_size: float) -> dict:
    """One way under load; adds server, client and machine CPU seconds (the machine is shared)."""
    server0 = {p: _cpu_seconds(p) for p in pids()}
    client0, machine0 = _children_cpu(), machine_cpu()
    result = load(port, reqs, args.clients, args.seconds, work)
    machine = [b - a for a, b in zip(machine0, machine_cpu())]
    result["server_cpu"] = sum(_cpu_seconds(p) - server0.get(p, 0.0) for p in pids())
    result["client_cpu"] = _children_cpu() - client0
    result["busy"] = machine[0] / (machine[2] or 1)
    result["other_cpu"] = machine[0] - result["server_cpu"] - result["client_cpu"]
    result["rps"], result["mbps"] = result["requests"] / result["seconds"], result["bytes"] / result["seconds"] / MB
    per = result["bytes"] / max(1, result["requests"])
    if mean_size and abs(per - mean_size) > 0.05 * mean_size + 2048:  # a 302 or 404 body, not a segment
        result["errors"] = max(result["errors"], 1)
        result["note"] = f"{per:.0f} bytes per response, expected ~{mean_size:.0f}"
    return result


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


def check(port: int, reqs, sizes: list[int], label: str) -> None:
    """A few requests, not timed: each must answer 200 with the segment's exact size."""
    for (path, headers), size in list(zip(reqs, sizes))[:3]:
        status, _, body = http_request(port, "GET", path, headers=headers)
        if status != 200 or len(body) != size:
            raise SystemExit(f"{label}: GET {path[:90]} answered {status} with {len(body)} bytes, not {size}")


def presign_cost(bucket: str, endpoint: str, key: str, n: int = 1000) -> float:
    """Seconds per presigned segment URL, in-process, as the playlist rewrite makes them."""
    from lms.storage.s3 import S3Storage

    storage = S3Storage(bucket, endpoint_url=endpoint)
    storage.presigned_url(key, expires=14400, content_type="video/mp2t")  # botocore's lazy loading
    best = float("inf")
    for _ in range(3):  # the best of three: the least of the shared machine's noise
        t0 = time.perf_counter()
        for _ in range(n):
            storage.presigned_url(key, expires=14400, content_type="video/mp2t")
        best = min(best, (time.perf_counter() - t0) / n)
    return best


# ---------------------------------------------------------------- main


def build(args, work: Path, procs: list) -> dict:
    """The ladder, N logged-in students, moto holding the same files, the servers; returns the ways."""
    from lms.extensions import db
    from lms.storage.s3 import S3Storage
    from lms.video.media_access import media_url
    from lms.video.models import Video

    app = make_app(work)
    ffmpeg.synthesize(work / "source.mp4", seconds=args.clip, width=1280, height=720, fps=30, timeout=600)
    _, _, out = run_pipeline(app, make_lesson(app), work / "source.mp4")
    with app.app_context():
        video = db.session.scalars(db.select(Video)).one()
        video_id, prefix, rungs = video.id, video.published_prefix, [r for r in video.renditions if r != "audio"]
    segments = [f"{r}/{p.name}" for r in rungs for p in sorted((out / r).glob("seg_*.ts"))]
    sizes = [(out / s).stat().st_size for s in segments]
    mean = sum(sizes) / len(sizes)
    print(f"ladder: {args.clip:g} s 720p30 testsrc2 through the worker; {len(segments)} video segments "
          f"({', '.join(rungs)}), {min(sizes) / MB:.2f}-{max(sizes) / MB:.2f} MB, mean {mean / MB:.2f} MB", flush=True)
    students = make_students(app, args.clients)
    env = {"LMS_DATABASE_URL": app.config["DATABASE_URL"], "LMS_SECRET_KEY": app.config["SECRET_KEY"],
           "LMS_MEDIA_ROOT": app.config["MEDIA_ROOT"], "LMS_INSTANCE_PATH": str(work / "instance"),
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
    s3_env = {**env, "LMS_STORAGE": "s3", "LMS_S3_BUCKET": bucket, "LMS_S3_ENDPOINT_URL": endpoint}
    bench_path = ["--pythonpath", str(ROOT / "bench")]
    local_app, s3_app = Server("app-local", "lms:create_app()", env, args, work), \
        Server("app-s3", "lms:create_app()", s3_env, args, work)
    accel = Server("app-accel", "media_delivery:accel_app()", env, args, work, extra=bench_path)
    for server in (local_app, s3_app, accel):
        procs.append(server)
        server.start("/login")
    in_pool(lambda s: s.login(local_app.port), students)  # one SECRET_KEY: the cookies work on every app
    with app.test_request_context():
        tokens = {s.user_id: media_url(video_id, s.user_id, "x").rsplit("/", 1)[0] for s in students}
    # Every student cycles through all segments, each from its own place in the list.
    mine = [(s, seg, size) for i, s in enumerate(students)
            for seg, size in zip(segments[i % len(segments):] + segments[:i % len(segments)],
                                 sizes[i % len(sizes):] + sizes[:i % len(sizes)])]
    app_reqs = [(f"{tokens[s.user_id]}/{seg}", {"Host": "127.0.0.1", **s.cookie_header()}) for s, seg, _ in mine]
    app_sizes = [size for *_, size in mine]
    playlists = [(f"{tokens[s.user_id]}/{r}/index.m3u8", {"Host": "127.0.0.1", **s.cookie_header()})
                 for s in students for r in rungs]
    signed: dict[str, str] = {}  # segment -> presigned URL, from the app's own rewritten playlists
    for path, headers in playlists[:len(rungs)]:
        status, _, body = http_request(s3_app.port, "GET", path, headers=headers)
        urls = [x for x in body.decode().splitlines() if x.startswith("http")]
        if status != 200 or not urls:
            raise SystemExit(f"(b) playlist {path[:80]}: {status} {body[:200]!r}")
        signed.update({f"{path.rsplit('/', 2)[1]}/{urlsplit(u).path.rsplit('/', 1)[1]}": u for u in urls})
    s3_reqs = [(f"{urlsplit(signed[s]).path}?{urlsplit(signed[s]).query}", {"Host": f"127.0.0.1:{moto_port}"})
               for s in segments]
    static_reqs = [(f"/{prefix}/{seg}", {"Host": "127.0.0.1"}) for seg in segments]
    if shutil.which("nginx"):
        ng, static_port, accel_port = start_nginx(work, Path(app.config["MEDIA_ROOT"]), 2, accel.port)
        procs.append(ng)
        static_pids, static_name = ng.pids, "nginx 2 workers, sendfile"
    else:
        static = Server("static", "media_delivery:static_app", {"STATIC_ROOT": app.config["MEDIA_ROOT"]},
                        args, work, extra=bench_path)
        procs.append(static)
        static.start("/")
        static_port, static_pids, static_name = static.port, static.pids, "gunicorn + WSGI file app, sendfile"
        print("(b2) skipped: nginx is not installed (apt-get install nginx-light adds b2, and (c) on nginx)")
    ways = {"c": (f"(c) static: {static_name.split(',')[0]}", static_port, static_reqs, sizes, static_pids),
            "b": ("(b) production: presigned URLs from moto", moto_port, s3_reqs, sizes, moto.pids),
            "b-app": ("(b-app) the app's rewritten playlists", s3_app.port, playlists, None,
                      lambda: s3_app.pids() + moto.pids()),
            "b2": ("(b2) app + nginx X-Accel-Redirect", accel_port, app_reqs, app_sizes,
                   lambda: ng.pids() + accel.pids()) if shutil.which("nginx") else None,
            "a": ("(a) app route, LocalStorage, send_file", local_app.port, app_reqs, app_sizes, local_app.pids)}
    ways = {k: v for k, v in ways.items() if v}
    for key, (label, port, reqs, expect, _) in ways.items():
        if expect:
            check(port, reqs, expect, label)
    print(f"servers on loopback: the app under gunicorn gthread {args.workers}x{args.threads}; moto_server (one "
          f"Python process; it answers `Connection: close`, so (b) reconnects per segment); {static_name}")
    return {"ways": ways, "mean": mean, "per_segment": presign_cost(bucket, endpoint, f"{prefix}/{segments[0]}"),
            "per_playlist": len(segments) // len(rungs), "rungs": len(rungs)}


def line(label: str, r: dict) -> str:
    per_request = r["server_cpu"] / max(1, r["requests"]) * 1000
    return (f"{label:<42} {r['rps']:7.0f} {r['mbps']:7.0f} {r['p50'] * 1000:7.1f} {r['p95'] * 1000:7.1f}"
            f" {r['errors']:5.0f} {per_request:7.2f} {r['server_cpu']:6.1f} {r['client_cpu']:6.1f} {r['other_cpu']:6.1f}"
            + (f"  {r['note']}" if r.get("note") else ""))


HEADER = (f"{'way':<42} {'req/s':>7} {'MB/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errs':>5} {'ms/req':>7}"
          f" {'srv s':>6} {'cli s':>6} {'othr s':>6}")


def report(world: dict, results: dict, args) -> None:
    ways, repeat = world["ways"], args.repeat
    med = {k: {f: statistics.median(r[f] for r in v) for f in v[0] if f != "note"} for k, v in results.items()}
    if repeat > 1:
        print(f"\nmedians of {repeat} rounds\n{HEADER}")
        for key, r in med.items():
            print(line(ways[key][0], r))
    c = med["c"]["mbps"]
    print("\nMB/s against (c), per round: " + "; ".join(
        f"{k}/c " + " ".join(f"{r['mbps'] / rc['mbps']:.2f}" for r, rc in zip(results[k], results["c"]))
        for k in ("b", "b2", "a") if k in results))
    cpu = {k: r["server_cpu"] / max(1, r["requests"]) for k, r in med.items()}
    print("server CPU per segment against (c), steadier than throughput on a shared machine: " + "; ".join(
        f"{k}/c {cpu[k] / cpu['c']:.1f}x" for k in ("b", "b2", "a") if k in cpu))
    verdict = "met" if med["b"]["mbps"] / c >= TARGET else "NOT met"
    print(f"production/static (b/c) {med['b']['mbps'] / c:.2f} (target >= {TARGET}: {verdict}); "
          + (f"b2/c {med['b2']['mbps'] / c:.2f}; " if "b2" in med else "") + f"app/static (a/c) {med['a']['mbps'] / c:.2f}")
    if verdict != "met":
        print(f"  (b) is moto's speed, not S3's: moto_server is one Python process under one GIL (it used "
              f"{med['b']['server_cpu'] / args.seconds:.2f} cores for {med['b']['mbps']:.0f} MB/s) and closes the "
              "connection after every object; S3 serves objects from a fleet. The app's share of (b) is the playlist:")
    pl = med["b-app"]
    print(f"  the app rewrote {pl['rps']:.0f} playlists/s ({world['per_playlist']} segments each, each read from moto "
          f"first), {pl['server_cpu'] / max(1, pl['requests']) * 1000:.1f} ms CPU per playlist (app + moto); "
          f"presigning costs {world['per_segment'] * 1e6:.0f} us per segment in-process: "
          f"{world['per_segment'] * 900 * 1000:.0f} ms for a 1-hour lecture's rung (900 x 4 s), once per rung "
          f"a player opens ({world['rungs']} here), against {med['a']['server_cpu'] / max(1, med['a']['requests']) * 1000:.1f}"
          " ms of app CPU per segment for (a)")


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
