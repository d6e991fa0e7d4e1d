"""Submissions read the way gunicorn hands a body over: from a socket, in reads of any size.

The form parser reads in 1 MiB steps (lms/uploads/spooling.py); these bodies put the closing
boundary across such a step and cut a body off in the middle.
"""
from __future__ import annotations

import io
import socket
import threading
from contextlib import contextmanager
from hashlib import sha256

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from lms.assignments.models import Submission
from lms.extensions import db
from lms.uploads.spooling import READ_SIZE
from tests.assignments.conftest import PNG, form_key, login, make_assignment
from tests.assignments.test_submissions import stored_files


BOUNDARY = "kakehashi-test-boundary"


def multipart(key: str, data: bytes) -> tuple[str, bytes]:
    fields = MultiDict({"kind": "files", "idempotency_key": key})
    fields.add("files", FileStorage(io.BytesIO(data), "board.png", content_type="image/png"))
    return encode_multipart(fields, boundary=BOUNDARY)


def body_across_a_read_step(key: str) -> tuple[str, bytes, bytes]:
    """A PNG sized so the closing boundary starts 10 bytes before the third read step ends."""
    _, probe = multipart(key, b"@" * 100)
    before = probe.index(b"@" * 100)
    data = PNG + bytes(i % 251 for i in range(3 * READ_SIZE - 10 - before - len(PNG)))
    boundary, body = multipart(key, data)
    assert body.index(data) + len(data) == 3 * READ_SIZE - 10
    return boundary, body, data


@contextmanager
def socket_body(body: bytes, *, send: int | None = None):
    """gunicorn's own body reader over a socket a thread writes `body` (or its first `send` bytes) into."""
    ours, theirs = socket.socketpair()

    def sender():
        with theirs:
            try:
                theirs.sendall(body[:send] if send is not None else body)
            except OSError:  # the app stopped reading (a failed test): nothing to report here
                pass

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        yield Body(LengthReader(SocketUnreader(ours), len(body)))
    finally:
        ours.close()
        thread.join(10)


def post(client, assignment, boundary: str, body: bytes, stream):
    return client.post(f"/assignments/{assignment.id}/submit", environ_overrides={
        "wsgi.input": stream, "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}"})


def test_a_file_ending_across_a_read_step_is_stored_whole(app, world):
    app.config["SUBMISSION_MAX_BYTES"] = 4 * READ_SIZE
    assignment = make_assignment(world.offering, title="Board", max_file_bytes=4 * READ_SIZE)
    client = login(app, world.student)
    boundary, body, data = body_across_a_read_step(form_key(client, assignment))
    with socket_body(body) as stream:
        response = post(client, assignment, boundary, body, stream)
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert sha256(data).hexdigest() in receipt and "board.png" in receipt
    stored = db.session.scalar(select(Submission)).files[0]
    assert stored.size == len(data) and stored.sha256 == sha256(data).hexdigest()


def test_a_body_cut_off_midway_stores_nothing(app, world):
    app.config["SUBMISSION_MAX_BYTES"] = 4 * READ_SIZE
    assignment = make_assignment(world.offering, title="Board", max_file_bytes=4 * READ_SIZE)
    client = login(app, world.student)
    boundary, body, _ = body_across_a_read_step(form_key(client, assignment))
    with socket_body(body, send=READ_SIZE + 12345) as stream:
        response = post(client, assignment, boundary, body, stream)
    assert response.status_code == 400
    assert db.session.scalar(select(Submission)) is None and stored_files(app) == []
