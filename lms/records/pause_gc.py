"""Building a batch of records or credentials makes ~100,000 small dicts and lists that all stay
alive until the batch is written. CPython's cycle collector runs on allocation counts and would
scan that growing heap again and again (a third of a cohort export's CPU time, measured with
bench/transcripts.py); none of it forms cycles worth collecting before the batch ends. So the
collector waits until the batch is built, and collects once afterwards as it normally would.
"""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused_gc():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
