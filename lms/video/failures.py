"""Why a video is not ready, as its uploader reads it: one short sentence in their language.

A rejected file has its own reason (lms.media.ffmpeg.MediaRejected, stored with lms.messages).
Anything else (ffmpeg crashing, a timeout, a full disk) is the server's problem: the uploader gets
a sentence saying so, and the tool's full output stays in the worker's log and, with the server's
folders left out, on the admin's System health page (jobs.last_error).
"""
from __future__ import annotations

from flask_babel import gettext as _

from lms.jobs.models import Job

NO_SPACE = ("No space left on device", "Errno 28", "ENOSPC", "Disk quota exceeded", "EntityTooLarge")


def for_uploader(job: Job | None, *, final: bool) -> str:
    error = (job.last_error if job else None) or ""
    if any(mark in error for mark in NO_SPACE):
        reason = _("The server's storage is full, so the video could not be processed.")
    elif "took longer than" in error:
        reason = _("Processing the video took too long and was stopped.")
    else:
        reason = _("The video could not be processed because of a problem on our side.")
    follow = _("Try again later, or tell the administrator.") if final else _("It will be tried again automatically.")
    return f"{reason} {follow}"
