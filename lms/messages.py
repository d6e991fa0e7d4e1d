"""Messages written by a job and read later by a person, in that person's language.

A worker runs in no one's language: a reason it stores ("the video is 5:12:00 long; the limit is
4:00:00") must be translated when somebody reads it. So it stores the catalog message id and its
parameters (as JSON), and the page translates them for its reader. `later` has gettext's signature
and is an extraction keyword (see `make translations`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_MARK = "kakehashi-message"


@dataclass(frozen=True)
class Message:
    id: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:  # English: logs, the admin page, exceptions
        return self.id % self.params if self.params else self.id

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.id, **self.params)

    def stored(self) -> str:
        return json.dumps({_MARK: self.id, "params": self.params}, ensure_ascii=False)


def later(message_id: str, **params) -> Message:
    return Message(message_id, params)


def shown(stored: str | None) -> str | None:
    """A stored reason in the reader's language. Text stored before reasons were kept this way is
    shown as it is, without the tool output older versions appended."""
    if not stored:
        return stored
    try:
        data = json.loads(stored)
    except ValueError:
        return stored.split(" Details: ", 1)[0]
    if not isinstance(data, dict) or not isinstance(data.get(_MARK), str):
        return stored
    try:
        return Message(data[_MARK], data.get("params") or {}).translated()
    except (KeyError, ValueError, TypeError):  # a catalog whose placeholders no longer match
        return Message(data[_MARK], data.get("params") or {}).id


_PATH = re.compile(r"(?<![\w.~-])(?:/[^\s/:'\"()\[\],]+)+/")


def without_paths(text: str) -> str:
    """Tool output for the admin page: folders of the server (/srv/media/..., /tmp/...) left out,
    file names kept ("…/seg_00003.ts: No space left on device")."""
    return _PATH.sub("…/", text)
