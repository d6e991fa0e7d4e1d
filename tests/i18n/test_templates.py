"""No template shows words the translators never saw: every user-visible text run and
user-visible attribute value in templates/ goes through gettext."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

# Words that are the same in every language, so they are written once, not translated: the brand
# in both scripts, names of formats and standards that are never localised, and the "v" of "v3".
ALLOWED = {"Kakehashi", "架け橋", "GPA", "CSV", "PDF", "CLR", "JSON", "iCal", "SHA-256", "v"}
# Whole files that are deliberately not in the reader's language.
EXEMPT = {
    # The PDF transcript is an official document with fixed labels in English, Japanese, Uzbek
    # and Russian side by side: the same document whoever downloads it.
    "records/transcript_pdf.html",
}
VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
LETTER = re.compile(r"[^\W\d_]")


def literal_html(env: Environment, source: str) -> str:
    """The template's literal text (jinja's `data` tokens), each {{ }} / {% %} construct replaced by
    a space (so `<tr{% if x %} class="y"{% endif %}>` still parses as a tag), on the same lines as
    in the template, so the parser's positions are the template's line numbers. Text inside
    {% trans %} blocks is translated by design, so it is left out too."""
    parts, line, in_trans, previous = [], 1, 0, None
    for lineno, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin":
            in_trans += {"trans": 1, "endtrans": -1}.get(value, 0)
        if kind == "data" and not in_trans:
            parts.append("\n" * (lineno - line) + value)
            line = lineno + value.count("\n")
        elif kind in ("variable_begin", "block_begin"):
            parts.append(" ")
        if kind != "whitespace":
            previous = kind
    return "".join(parts)


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.skipping = 0  # inside <script> or <style>: code, not words

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        attributes = dict(attrs)
        for name, value in attrs:
            shown = name in VISIBLE_ATTRIBUTES or (
                name == "value" and (tag == "button" or attributes.get("type") in ("submit", "button", "reset")))
            if shown and value:
                self.check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.check(data)

    def check(self, text: str):
        first_line = self.getpos()[0]
        for offset, line in enumerate(text.split("\n")):
            words = [word for word in line.split() if word.strip(".,:;()·—–-/") not in ALLOWED]
            if LETTER.search(" ".join(words)):
                self.found.append((first_line + offset, line.strip()))


def test_templates_have_no_untranslated_text():
    env = Environment(extensions=["jinja2.ext.i18n"])
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in EXEMPT:
            continue
        parser = VisibleText()
        parser.feed(literal_html(env, path.read_text()))
        parser.close()
        problems += [f"templates/{name}:{line}: {text!r}" for line, text in parser.found]
    assert not problems, "wrap these in {{ _('...') }}:\n" + "\n".join(problems)
