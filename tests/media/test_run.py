"""ffmpeg.run(): the wrapper's runner stops whole process groups on timeout and on cancel."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lms.media.ffmpeg import MEMORY_LIMIT, OUTPUT_FILE_LIMIT, MediaToolError, run

# A shell whose child outlives it unless the whole group is killed; it prints the child's pid.
FAMILY = ["/bin/sh", "-c", "/bin/sleep 30 & echo $!; wait"]


def gone(pid: int, within: float = 3.0) -> bool:
    """The process has exited (a zombie waiting for init to reap it counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_timeout_kills_the_process_group():
    pids: list[str] = []
    started = time.monotonic()
    with pytest.raises(MediaToolError, match="took longer than"):
        run(FAMILY, timeout=0.5, on_line=pids.append)
    assert time.monotonic() - started < 5
    assert len(pids) == 1 and pids[0].isdigit()
    assert gone(int(pids[0])), "the grandchild sleep survived the timeout"


def test_plain_sleep_past_the_timeout():
    started = time.monotonic()
    with pytest.raises(MediaToolError, match="sleep took longer than"):
        run(["/bin/sleep", "30"], timeout=0.3)
    assert time.monotonic() - started < 5


def test_cancel_raises_interrupted_and_kills_the_group():
    pids: list[str] = []
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        with pytest.raises(InterruptedError):
            run(FAMILY, timeout=30, on_line=pids.append, cancel=cancel)
    finally:
        timer.cancel()
    assert pids and gone(int(pids[0]))


def test_failure_reports_exit_code_and_stderr():
    with pytest.raises(MediaToolError, match=r"exited with 3: .*disk on fire"):
        run(["/bin/sh", "-c", "echo 'disk on fire' >&2; exit 3"], timeout=10)


def test_returns_stdout():
    assert run(["/bin/echo", "hello"], timeout=10) == "hello\n"


def test_limits_hold_from_the_childs_first_instruction():
    # A fast child reads its limits at once: set from the parent after spawn, they would sometimes
    # arrive too late (they did, about one run in three), so run it a few times.
    for _ in range(5):
        core, files, memory_kib, file_blocks = run(
            ["/bin/sh", "-c", "ulimit -c; ulimit -n; ulimit -v; ulimit -f"], timeout=10).split()
        assert core == "0" and int(files) <= 1024
        assert memory_kib != "unlimited" and int(memory_kib) * 1024 <= MEMORY_LIMIT
        assert file_blocks != "unlimited" and int(file_blocks) * 512 <= OUTPUT_FILE_LIMIT
