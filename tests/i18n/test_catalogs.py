"""The message catalogs: every UI string extracted from the code and templates today has a real
translation in each language, and each translation keeps the message's placeholders and markup."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "lms" / "translations"
LOCALES = ["ja", "uz", "ru"]


def extract_command(pot: Path) -> list[str]:
    """The `pybabel extract` line of `make translations`, so the test checks exactly what the
    Makefile extracts (same keywords), written to `pot` instead of the committed template."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "pybabel extract" in line)
    args = shlex.split(line.strip())[1:]  # drop $(BIN)/pybabel
    args[args.index("-o") + 1] = str(pot)
    args[args.index("-F") + 1] = str(ROOT / args[args.index("-F") + 1])
    args[-1] = str(ROOT / args[-1])  # the input path: babel.cfg's patterns are relative to it
    return ["pybabel", "-q", *args]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(extract_command(pot))
    with pot.open("rb") as f:
        return read_po(f)


def load(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def test_the_committed_template_is_current(extracted):
    """Someone who adds a UI string re-runs `make translations`; otherwise translators never see it."""
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    missing = sorted(str(m.id) for m in extracted if m.id and m.id not in committed)
    if missing:
        pytest.fail("run `make translations`; messages.pot lacks:\n" + "\n".join(missing))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(extracted, locale):
    catalog = load(locale)
    problems = []
    for message in extracted:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        strings = [] if entry is None else (entry.string if isinstance(entry.string, (list, tuple))
                                            else [entry.string])
        if entry is None:
            problems.append(f"missing: {message.id!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not strings or not all(s and s.strip() for s in strings):
            problems.append(f"empty: {message.id!r}")
    if problems:  # pytest.fail, not assert: the list is long, and assert would print it twice
        pytest.fail(f"{locale}: {len(problems)} messages need translating:\n" + "\n".join(problems))


PLACEHOLDER = re.compile(r"%%|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{\w*(?:[!:][^{}]*)?\}")
MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*|&#?\w+;")


def tokens(pattern: re.Pattern, texts) -> set[str]:
    return {token for text in texts if text for token in pattern.findall(text)}


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_markup(locale):
    """A renamed %(name)s is a KeyError when the page renders, a dropped one hides a figure from
    the reader, a dropped <a> loses a link. (Japanese has one plural form: it is compared with
    both English forms together.)"""
    problems = []
    for message in load(locale):
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
        strings = list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
        for text in filter(None, strings):
            for pattern in (PLACEHOLDER, MARKUP):
                expected, found = tokens(pattern, ids), tokens(pattern, [text])
                if expected != found:
                    problems.append(f"{ids[0]!r} -> {text!r}: expected {sorted(expected)}, found {sorted(found)}")
    if problems:
        pytest.fail(f"{locale}:\n" + "\n".join(problems))
