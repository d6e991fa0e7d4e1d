"""What a large upload may be for: who may send it, how big it may be, and what its first bytes
must look like. Checked when it starts and again, on the stored object, when it completes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask_babel import gettext as _

from lms.assignments.builds import ZIP_SIGNATURES
from lms.assignments.filetypes import KNOWN, extension_of
from lms.errors import DomainError, Forbidden, NotFound
from lms.extensions import db

VIDEO_EXTENSIONS = ("mp4", "mov", "webm", "mkv")


@dataclass(frozen=True)
class Purpose:
    name: str
    authorize: Callable  # (user, target_id) -> max bytes, or raises
    check_name: Callable[[str], str]  # the content type, or raises DomainError
    check_head: Callable[[str, bytes], bool]


def _video_name(filename: str) -> str:
    ext = extension_of(filename)
    if ext not in VIDEO_EXTENSIONS:
        raise DomainError(_("Choose a video file (MP4, MOV, MKV or WebM)."))
    return KNOWN[ext][0]


def _video_head(filename: str, head: bytes) -> bool:
    return KNOWN[extension_of(filename)][1](head)


def _zip_name(filename: str) -> str:
    if extension_of(filename) != "zip":
        raise DomainError(_("The build must be a .zip file with index.html inside. Zip the exported "
                            "web build folder and upload it again."))
    return "application/zip"


def _lesson_video(user, lesson_id: int) -> int:
    from lms.catalog.models import Lesson
    from lms.catalog.permissions import can_edit_course
    from lms.video.services import max_upload_bytes

    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(_("That lesson does not exist."))
    if not can_edit_course(user, lesson.course):
        raise Forbidden(_("Only the course's instructors can upload its videos."))
    return max_upload_bytes()


def _assignment(kind: str):
    def authorize(user, assignment_id: int) -> int:
        from lms.assignments.models import Assignment
        from lms.assignments.permissions import can_submit

        assignment = db.session.get(Assignment, assignment_id)
        if assignment is None:
            raise NotFound(_("That assignment does not exist."))
        if not can_submit(user, assignment):
            raise Forbidden(_("Only students of this course can submit here."))
        if kind not in assignment.kinds:
            raise DomainError(_("This assignment does not accept this kind of submission."))
        return assignment.max_file_bytes
    return authorize


PURPOSES = {p.name: p for p in (
    Purpose("lesson_video", _lesson_video, _video_name, _video_head),
    Purpose("submission_video", _assignment("video"), _video_name, _video_head),
    Purpose("game_build", _assignment("game"), _zip_name, lambda _name, head: head[:4] in ZIP_SIGNATURES),
)}


def purpose(name: str) -> Purpose:
    if name not in PURPOSES:
        raise DomainError(_("Unknown kind of upload."))
    return PURPOSES[name]
