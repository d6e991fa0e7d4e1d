"""Journey 6: a student's pages in Japanese, Uzbek and Russian show no English UI string.

The English strings are the catalog's msgids: every one that the language's catalog translates
differently (or leaves untranslated) must not be visible. Course content (lesson bodies,
instructions, titles entered by staff) is the institution's, not UI, and is left out."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.browser.stack import ROOT

STUDENT = "aziz@demo.jdu.uz"
PAGES = ["/", "/offerings/1", "/offerings/1/lessons/2", "/offerings/1/assignments", "/records/me", "/account",
         "/account/calendar"]
PLACEHOLDER = re.compile(r"%(\([a-z_]+\))?[sdf%]")
# Words that stay the same in every language here (codes, names, formats).
SAME_EVERYWHERE = {"PDF", "CSV", "GPA", "CLR 2.0", "Kakehashi", "iCal", "WebVTT", "MP4", "HLS"}


def english_ui_strings(language: str) -> list[str]:
    """Msgids of at least two words without placeholders that the catalog does not keep as they are."""
    path = ROOT / "lms" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with Path(path).open("rb") as fh:
        catalog = read_po(fh)
    strings = []
    for message in catalog:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        msgstr = message.string[0] if isinstance(message.string, tuple) else message.string
        if not msgid or PLACEHOLDER.search(msgid) or msgid in SAME_EVERYWHERE or msgstr == msgid:
            continue
        if len(msgid.split()) >= 2 and len(msgid) >= 8:
            strings.append(msgid)
    return strings


def visible_text(page) -> str:
    """What a reader sees (and a screen reader says), less the course content in `.prose` blocks."""
    text = page.evaluate("""() => {
      const hide = [...document.querySelectorAll('.prose')];
      hide.forEach(n => n.dataset.wasDisplay = n.style.display);
      hide.forEach(n => n.style.display = 'none');
      const labels = [...document.querySelectorAll('[aria-label], [title]')]
        .map(n => n.getAttribute('aria-label') || n.getAttribute('title'));
      const out = document.body.innerText + '\\n' + labels.join('\\n');
      hide.forEach(n => n.style.display = n.dataset.wasDisplay);
      return out;
    }""")
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["ja", "uz", "ru"])
def test_student_pages_show_no_english_ui_strings(new_page, language):
    strings = english_ui_strings(language)
    assert len(strings) > 100, "the catalog looks empty"
    page = new_page(STUDENT, locale=language)
    found = {}
    for path in PAGES:
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        text = visible_text(page)
        for msgid in strings:
            if re.search(r"(?<!\w)" + re.escape(msgid) + r"(?!\w)", text):
                found.setdefault(msgid, path)
    assert not found, f"English UI strings on {language} pages ({len(found)}):\n" + "\n".join(
        f"  {path}: {msgid!r}" for msgid, path in sorted(found.items(), key=lambda kv: kv[1]))
