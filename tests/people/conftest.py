"""Helpers shared by the registrar, admin and demo tests: a program row, reading pages back."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from lms.catalog.models import Program
from lms.extensions import db

CREATED_ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td><code>([^<]*)</code></td></tr>")
ERROR_ROW = re.compile(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>")


@pytest.fixture
def program(app):
    row = Program(code="jdu-game-dev", name_en="JDU Game Development")
    db.session.add(row)
    db.session.commit()
    return row


def text(response) -> str:
    """The page as a reader sees it: entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def one_time_passwords(response) -> dict[str, str]:
    """email -> one-time password, from the 'Accounts ready' table."""
    return {html.unescape(email): html.unescape(password)
            for _number, _name, email, password in CREATED_ROW.findall(response.get_data(as_text=True))}


def row_errors(response) -> dict[int, list[str]]:
    """line -> problems, from the 'Nothing was saved' table."""
    found: dict[int, list[str]] = {}
    for line, message in ERROR_ROW.findall(response.get_data(as_text=True)):
        found.setdefault(int(line), []).append(html.unescape(message))
    return found


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def upload(content: bytes | str, filename: str = "students.csv"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return io.BytesIO(content), filename
