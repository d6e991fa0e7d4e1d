"""Large uploads in parts: started, sent (straight to S3, or to the app on disk), resumed, completed
and checked, then claimed by the form they were for. Services flush; the views commit."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from jinja2.filters import do_filesizeformat
from sqlalchemy import select

from lms.db import utcnow
from lms.errors import Conflict, DomainError, NotFound
from lms.extensions import db
from lms.filenames import display_name
from lms.storage import NotStored, Part, StorageError, get_storage
from lms.uploads.models import Upload, UploadState
from lms.uploads.purposes import purpose as find_purpose

HEAD_BYTES = 64
MAX_PARTS = 10_000  # S3's limit
SWEEP_BATCH = 20


def start(user, purpose_name: str, target_id: int, filename: str, size: int) -> Upload:
    purpose = find_purpose(purpose_name)
    max_bytes = purpose.authorize(user, target_id)
    filename = display_name(filename)
    content_type = purpose.check_name(filename)
    if size <= 0:
        raise DomainError(_("The file is empty. Choose the file again."))
    if size > max_bytes:
        raise TooBig(max_bytes)
    storage = get_storage()
    part_size = max(storage.part_size, -(-size // MAX_PARTS))
    sweep_expired()
    key = f"uploads/{uuid.uuid4().hex}"
    upload = Upload(token=secrets.token_urlsafe(32), user_id=user.id, purpose=purpose.name, target_id=target_id,
                    key=key, storage_upload_id=storage.start_multipart(key, content_type), filename=filename,
                    content_type=content_type, size=size, part_size=part_size,
                    expires_at=utcnow() + timedelta(hours=current_app.config["UPLOAD_MAX_AGE_HOURS"]))
    db.session.add(upload)
    db.session.flush()
    return upload


class TooBig(DomainError):
    status = 413

    def __init__(self, limit: int):
        super().__init__(_("The file is larger than the %(size)s allowed here. Make it smaller and try again.",
                           size=do_filesizeformat(limit)))


def find_open(user, token: str) -> Upload:
    """The user's own upload that still takes parts; anyone else's token is simply unknown."""
    upload = db.session.scalar(select(Upload).where(Upload.token == token))
    if upload is None or upload.user_id != user.id:
        raise NotFound(_("That upload is unknown. Start the upload again."))
    if upload.state == UploadState.OPEN and upload.expires_at < utcnow():
        _abort(upload, _("The upload expired. Start it again."))
    if upload.state == UploadState.ABORTED:
        raise Conflict(upload.error or _("That upload was cancelled. Start it again."))
    return upload


def _check_part_number(upload: Upload, number: int) -> None:
    if not 1 <= number <= upload.part_count:
        raise DomainError(_("Part %(n)s is outside this upload.", n=number))


def part_url(upload: Upload, number: int) -> str | None:
    _check_part_number(upload, number)
    return get_storage().part_url(upload.key, upload.storage_upload_id, number,
                                  expires=current_app.config["UPLOAD_URL_MAX_AGE"])


class PartIncomplete(DomainError):
    """The part did not arrive whole: nothing of it is kept, and the browser sends it again."""

    status = 422


class _Sha256Reader:
    def __init__(self, stream):
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


def _expected_size(upload: Upload, number: int) -> int:
    return min(upload.part_size, upload.size - (number - 1) * upload.part_size)


def _whole(upload: Upload, stored: list[Part]) -> list[Part]:
    """Parts that hold their full share of the declared size: only these count as arrived (a part cut
    off mid-body, which a presigned PUT cannot stop the store from keeping, is sent again)."""
    return [p for p in stored if 1 <= p.number <= upload.part_count and p.size == _expected_size(upload, p.number)]


def put_part(upload: Upload, number: int, stream, sha256: str | None = None) -> Part:
    """On disk, the part comes through the app: kept only when exactly its share of the declared
    size arrived and, when the browser sent one, its SHA-256 matches. Raises PartIncomplete."""
    _check_part_number(upload, number)
    if upload.state != UploadState.OPEN:
        raise Conflict(_("This upload is already complete."))
    expected = _expected_size(upload, number)
    storage, reader = get_storage(), _Sha256Reader(stream)
    part = storage.put_part(upload.key, upload.storage_upload_id, number, reader, max_bytes=expected)
    if part.size != expected:
        problem = _("Part %(n)s arrived incomplete (%(got)s of %(want)s bytes); it is sent again.",
                    n=number, got=part.size, want=expected)
    elif sha256 and sha256.strip().lower() != reader.digest.hexdigest():
        problem = _("Part %(n)s arrived damaged (its checksum does not match); it is sent again.", n=number)
    else:
        return part
    storage.discard_part(upload.key, upload.storage_upload_id, number)
    raise PartIncomplete(problem)


def parts(upload: Upload) -> list[Part]:
    """What the store already holds whole: a resumed upload sends only the rest."""
    if upload.state != UploadState.OPEN:
        return []
    try:
        return _whole(upload, get_storage().list_parts(upload.key, upload.storage_upload_id))
    except NotStored:
        _abort(upload, _("The upload expired. Start it again."))
        raise Conflict(upload.error) from None


def complete(upload: Upload, sent: list[Part]) -> Upload:
    """Join the parts and check the object itself: its size (HEAD) and its first bytes (a ranged
    read). A refused object is deleted; the user is told why."""
    if upload.state == UploadState.COMPLETE:
        return upload  # a retried request after a dropped answer
    if upload.state != UploadState.OPEN:
        raise Conflict(_("This upload is already used."))
    storage = get_storage()
    stored = {p.number: p for p in _whole(upload, storage.list_parts(upload.key, upload.storage_upload_id))}
    missing = [n for n in range(1, upload.part_count + 1) if n not in stored]
    if missing:
        raise DomainError(_("Parts %(parts)s have not arrived yet. Resume the upload.",
                            parts=", ".join(map(str, missing[:10]))))
    named = {p.number: p.etag for p in sent}
    if any(named.get(n) not in (None, part.etag) for n, part in stored.items()):
        raise DomainError(_("A part changed while uploading. Resume the upload."))
    try:
        _size, sha256 = storage.complete_multipart(upload.key, upload.storage_upload_id,
                                                   [stored[n] for n in sorted(stored)])
        size, head = storage.size(upload.key), storage.read_range(upload.key, 0, HEAD_BYTES)
    except StorageError:
        _abort(upload, _("The parts could not be joined. Start the upload again."))
        return upload
    purpose = find_purpose(upload.purpose)
    if size != upload.size:
        _abort(upload, _("The file arrived with %(got)s bytes instead of %(want)s. Start the upload again.",
                         got=size, want=upload.size))
    elif not purpose.check_head(upload.filename, head):
        _abort(upload, _("The file's content does not match its name %(name)s.", name=upload.filename))
    else:
        upload.state, upload.sha256 = UploadState.COMPLETE, sha256
    db.session.flush()
    return upload


def claim(user, token: str | None, purpose_name: str, target_id: int) -> Upload | None:
    """The completed upload a form names, now owned by what the form creates; None if it names none."""
    if not token:
        return None
    upload = db.session.scalar(select(Upload).where(Upload.token == token).with_for_update())
    if (upload is None or upload.user_id != user.id or upload.purpose != purpose_name
            or upload.target_id != target_id or upload.state != UploadState.COMPLETE):
        raise DomainError(_("The uploaded file could not be found. Upload it again."))
    upload.state = UploadState.CLAIMED
    db.session.flush()
    return upload


def abort(upload: Upload) -> None:
    if upload.state in (UploadState.OPEN, UploadState.COMPLETE):
        _abort(upload, _("Cancelled."))


def _abort(upload: Upload, reason: str) -> None:
    storage = get_storage()
    storage.abort_multipart(upload.key, upload.storage_upload_id)
    storage.delete(upload.key)
    upload.state, upload.error = UploadState.ABORTED, reason[:500]
    db.session.flush()


def sweep_expired() -> None:
    """Uploads nobody finished or claimed in time: their parts and objects are removed (and spools a
    killed web process left behind)."""
    get_storage().sweep_spool()
    for upload in db.session.scalars(select(Upload).where(
            Upload.state.in_([UploadState.OPEN, UploadState.COMPLETE]), Upload.expires_at < utcnow())
            .limit(SWEEP_BATCH)):
        _abort(upload, _("The upload expired. Start it again."))
