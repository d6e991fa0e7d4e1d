"""Table columns as plain text: each course row of the PDF transcript is one run of text whose
columns are placed with white space worked out here from the fonts' advance widths.

Why: WeasyPrint's time goes per box and per line box, not per glyph (bench/README.md). A row of
table cells, one per column, cost ~3.5 ms; one cell holding two lines of text costs ~1 ms. CSS has
only uniform tab stops (`tab-size`), so a column can start on a stop of our choosing only if we know
where the text before it ends: we measure it as Pango will lay it out (DejaVu Sans Condensed for
what it covers, the Japanese font, 1 em a character, for the rest; no kerning, see the template's
CSS), and wrap long titles, terms and rules within their column here rather than in WeasyPrint.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from collections.abc import Sequence

log = logging.getLogger(__name__)

TAB_PX = 16  # the template's tab-size (4.2 mm): columns start on multiples of it. Fewer, wider stops
# make fewer tab glyphs, which WeasyPrint draws one by one: 4 px stops cost 0.04 s more per PDF.
PX_PER_MM = 96 / 25.4
FONT_PX = 8 * 96 / 72  # the rows' font size, 8pt, in CSS px
GAP_PX = 1.5 * PX_PER_MM  # least white space between a column's text and the next column
IDEOGRAPHIC_SPACE = "\u3000"
CJK_SPACE_EM = 0.224  # Noto Sans CJK's space: Pango keeps the previous glyph's font for spaces
WIDE = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"  # CJK: a line may break between any two
WORDS = re.compile(rf"[{WIDE}]|[^\s{WIDE}]+|\s+")


def _font_file(family: bytes) -> str | None:
    """The file fontconfig picks for `family`, asked the way Pango asks (WeasyPrint's bindings)."""
    try:
        from weasyprint.text.ffi import ffi, fontconfig

        pattern = fontconfig.FcPatternCreate()
        try:
            fontconfig.FcPatternAddString(pattern, b"family", family)
            fontconfig.FcConfigSubstitute(ffi.NULL, pattern, fontconfig.FcMatchPattern)
            fontconfig.FcDefaultSubstitute(pattern)
            match = fontconfig.FcFontMatch(ffi.NULL, pattern, ffi.new("FcResult *"))
            if match == ffi.NULL:
                return None
            try:
                found, name = ffi.new("FcChar8 **"), ffi.new("FcChar8 **")
                if (fontconfig.FcPatternGetString(match, b"file", 0, found) != fontconfig.FcResultMatch
                        or fontconfig.FcPatternGetString(match, b"family", 0, name) != fontconfig.FcResultMatch):
                    return None
                if not ffi.string(name[0]).startswith(family.split()[0]):
                    return None  # a substitute: its widths are not the ones we would measure
                return ffi.string(found[0]).decode()
            finally:
                fontconfig.FcPatternDestroy(match)
        finally:
            fontconfig.FcPatternDestroy(pattern)
    except Exception:  # noqa: BLE001 - measuring falls back to estimates; the PDF still renders
        log.exception("could not locate %s", family)
        return None


@functools.cache
def _latin_advances() -> dict[str, float]:
    """Advance widths in em of DejaVu Sans Condensed (Latin, Uzbek oʻ gʻ, Cyrillic, punctuation)
    by character; empty if the font is missing, then widths are estimated."""
    path = _font_file(b"DejaVu Sans Condensed")
    if path is None:
        log.warning("DejaVu Sans Condensed not found: transcript columns are placed by estimate")
        return {}
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        upem, metrics = font["head"].unitsPerEm, font["hmtx"].metrics
        return {chr(cp): metrics[glyph][0] / upem for cp, glyph in font.getBestCmap().items()}


def _cjk(ch: str) -> bool:
    return ch not in _latin_advances()


def _space_in_cjk(prev: str, after: str) -> bool:
    """Whether Pango sets a space that follows `prev` (a CJK-font character) in the CJK font.
    Measured: it joins the next character's font when that one is in the same script run
    (punctuation, digits, or a Latin letter after a full-width Latin one), else stays with `prev`."""
    if not after or not after[0].isalpha():
        return not after or _cjk(after[0])
    latin_before = "\uff21" <= prev <= "\uff5a"  # full-width A-Z a-z are Latin script
    return _cjk(after[0]) or not latin_before


def _measure(text: str) -> float:
    """Width of `text` in em."""
    latin = _latin_advances()
    em, prev = 0.0, ""
    for n, ch in enumerate(text):
        if ch.isspace() and prev and _cjk(prev) and _space_in_cjk(prev, text[n + 1:].lstrip()):
            em += CJK_SPACE_EM
            continue
        if ch in latin:
            em += latin[ch]
        elif not latin and ch.isascii():
            em += 0.6  # no DejaVu: an over-estimate for Latin, so text rather wraps than overlaps
        else:  # Noto Sans CJK JP: ideographs, kana and full-width forms are 1 em, half-width 0.5
            em += 0.5 if unicodedata.east_asian_width(ch) in "HNa" else 1.0
        if not ch.isspace():
            prev = ch
    return em


@functools.lru_cache(maxsize=8192)  # figures, terms, states and schemes repeat on every transcript
def width(text: str) -> float:
    """Width of `text` at the rows' font size, in CSS px."""
    return _measure(text) * FONT_PX


def wrap(text: str, room: float) -> list[str]:
    """`text` in lines no wider than `room` px: breaks at spaces, between CJK characters, and
    inside a word only when the word alone is too wide."""
    if width(text) <= room:
        return [text]
    lines, line = [], ""
    for token in WORDS.findall(text):
        if width(line + token) <= room:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        if token.isspace():
            continue
        for ch in token if width(token) > room else [token]:  # a word wider than the column: split it
            if line and width(line + ch) > room:
                lines.append(line)
                line = ""
            line += ch
    if line.strip():
        lines.append(line.rstrip())
    return lines


def gap(room: float) -> str:
    """White space `room` px wide, ending on a tab stop: ideographic spaces, then one tab.

    Not tabs alone: WeasyPrint 68 draws a tab 2.4 % wider than Pango laid it out (it scales the
    empty glyph by 1/1024 where the PDF wants 1/1000 em), so text after long tabs drifted right by
    up to 4 px, differently on every line. U+3000 is exactly 1 em whatever font Pango picks for it
    (Noto's glyph, or HarfBuzz's fallback in DejaVu, both measured), so the tab left is < 1 em + 0.5 px
    and draws at most 0.3 px off. One tab still lands exactly on the column (TAB_PX > 1 em)."""
    ems = max(0, math.floor((room - 0.5) / FONT_PX))
    return IDEOGRAPHIC_SPACE * ems + "\t"


class Columns:
    """Columns `stops` tab stops wide each; the last one takes what is left of `total_px`."""

    def __init__(self, stops: Sequence[int], total_px: float):
        self.starts = [TAB_PX * sum(stops[:n]) for n in range(len(stops))]
        self.rooms = [b - a - GAP_PX for a, b in zip(self.starts, self.starts[1:] + [total_px + GAP_PX])]

    def lines(self, cells: Sequence[str | Sequence[str]]) -> str:
        """One row as text: `cells` holds per column a string or a list of paragraphs, each wrapped
        within the column; the row has as many lines as its tallest column."""
        columns = []
        for cell, room in zip(cells, self.rooms):
            paragraphs = [cell] if isinstance(cell, str) else cell
            columns.append([line for p in paragraphs if p for line in wrap(p, room)])
        out = []
        for n in range(max(map(len, columns), default=0)):
            text, x = "", 0.0
            for start, column in zip(self.starts, columns):
                if n < len(column) and column[n]:
                    if text or start:
                        text += gap(start - x)
                    text += column[n]
                    x = start + width(column[n])
            out.append(text)
        return "\n".join(out)
