"""One JSON line per job event (claim, finish, retry, dead, hand-back, taken-over), for log
shippers and `jq`: which job, which worker, which attempt, and how long it ran.

`flask lms worker` writes them to standard output on their own, beside its human-readable log
(stderr); in another process they go wherever the `lms.jobs.events` logger is sent.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime

log = logging.getLogger("lms.jobs.events")


def emit(event: str, *, job_id: int, kind: str, worker_id: str, attempt: int, started: float | None = None,
         **fields) -> None:
    record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "event": event,
              "job_id": job_id, "kind": kind, "attempt": attempt, "worker": worker_id}
    if started is not None:
        record["duration_s"] = round(time.monotonic() - started, 3)
        from lms.metrics import JOB_SECONDS

        JOB_SECONDS.labels(kind, event).observe(time.monotonic() - started)
    record.update({k: v for k, v in fields.items() if v is not None})
    log.info(json.dumps(record, ensure_ascii=False))


def to_stdout() -> None:
    """The worker's setting: bare JSON lines on stdout, not repeated in the human log."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
