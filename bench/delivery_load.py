"""Load for bench/media_delivery.py: wrk (C, not the bottleneck) or processes of Python threads, and the
per-way measurement (CPU of servers, client and the rest of the shared machine; bytes per response)."""
from __future__ import annotations

import http.client
import json
import os
import resource
import subprocess
import threading
import time
from multiprocessing import Pool
from pathlib import Path

from deadline_spike import _cpu_seconds, http_request, machine_cpu

MB = 1e6  # MB/s in decimal megabytes, as network figures usually are


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
    if mean_size and abs(per - mean_size) > 0.05 * mean_size + 2048:  # a 302, 403 or 404 body, not a segment
        result["errors"] = max(result["errors"], 1)
        result["note"] = f"{per:.0f} bytes per response, expected ~{mean_size:.0f}"
    return result


def check(port: int, reqs, files: list[Path], label: str) -> None:
    """A few requests, not timed: each must answer 200 with the segment file's exact bytes."""
    for (path, headers), file in list(zip(reqs, files))[:3]:
        status, _, body = http_request(port, "GET", path, headers=headers)
        if status != 200 or body != file.read_bytes():
            raise SystemExit(f"{label}: GET {path[:90]} answered {status} with {len(body)} bytes, "
                             f"not the {file.stat().st_size} of {file.name}")
