"""gunicorn settings for the Kakehashi web process: `gunicorn -c deploy/gunicorn.conf.py 'lms:create_app()'`.

Threaded workers (gthread): an upload streams for as long as the student's connection needs, and
with threads a slow upload holds one thread, not a whole process. Processes rather than many
threads: each has its own interpreter lock (bench/deadline_spike.py: 4 x 2 on two cores); scale
processes with cores. Every value can be overridden from the environment (GUNICORN_*) without editing this file.
"""
import os
import shutil

# Prometheus: each worker process counts into files in PROMETHEUS_MULTIPROC_DIR, and /metrics adds
# them all up (lms/metrics.py). By default a folder of this gunicorn's own in /dev/shm, made when it
# starts (before the workers fork, so they inherit it) and removed when it stops.
def on_starting(server):
    folder = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", f"/dev/shm/kakehashi-metrics-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def on_exit(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if folder.startswith("/dev/shm/kakehashi-metrics-"):  # ours; a folder the operator chose stays
        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))

# With gthread the timeout only catches a process whose main loop hangs; requests may run longer
# (a 4 GB upload on a slow line), so it is not a request deadline. Set that at the proxy.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30  # SIGTERM on deploy: finish running requests, then stop
keepalive = 5  # a little above a typical load balancer's reuse, so it never sends to a closed socket

# Recycle workers now and then, staggered, so a slow leak never takes all of them at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500

# The app runs no queries at import (create_app), but each process must open its own database
# connections and S3 clients after the fork: no preload.
preload_app = False
worker_tmp_dir = "/dev/shm"  # the heartbeat file; a slow disk must not look like a hung worker

# Behind HTTPS termination: trust X-Forwarded-Proto only from the proxy's address(es).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

accesslog = "-"  # stdout; journald or the container runtime keeps it
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'  # no cookies, no query secrets
