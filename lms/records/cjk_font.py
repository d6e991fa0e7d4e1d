"""Noto Sans CJK JP cut down to what JDU's transcripts print, for WeasyPrint: built by `make setup`
(`python -m lms.records.cjk_font`), not committed (1.6 MB).

Why: every PDF embeds a subset of its CJK font, and WeasyPrint makes it from the whole font: with
the 20 MB system TTC (65,535 glyph slots) that took ~20 ms per transcript, with this 7,000-glyph font
~3 ms, and the PDFs are half the size (bench/README.md). It holds JIS X 0208 (kanji levels 1 and
2, kana, punctuation, full-width forms) and the Windows-31J extensions; no OpenType layout features
(horizontal Japanese needs none) and no hinting. A character it lacks falls through to the system
Noto Sans CJK JP, next in the template's font list; without this file the PDFs use that one alone.
"""
from __future__ import annotations

import sys
from pathlib import Path

FONT = Path(__file__).parent / "fonts" / "jdu-sans-cjk-jp.otf"
FAMILY = "JDU Sans CJK JP"  # a name of its own, so fontconfig never confuses it with the system font
SOURCES = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]  # Debian's fonts-noto-cjk


def characters() -> set[str]:
    """Every character of JIS X 0208 and Windows-31J (two-byte codes), plus the CJK symbol, kana and
    full-width blocks whole, and ASCII: Pango sets a space after a Japanese character in its font."""
    chars = set()
    for codec, lead in (("euc_jp", range(0xA1, 0xFF)), ("cp932", [*range(0x81, 0xA0), *range(0xE0, 0xFD)])):
        for hi in lead:
            for lo in range(0x40, 0xFF):
                try:
                    chars.update(bytes([hi, lo]).decode(codec))
                except UnicodeDecodeError:
                    pass
    for first, last in ((0x20, 0x7E), (0x3000, 0x30FF), (0x31F0, 0x31FF), (0xFF00, 0xFFEF)):
        chars.update(map(chr, range(first, last + 1)))
    return chars


def build(source: str, out: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=0)  # index 0 of the TTC is the JP face
    options = subset.Options()
    options.layout_features = []  # not even the glyphs reachable through them: ~7,000 instead of 15,000
    options.hinting = False
    options.desubroutinize = True  # WeasyPrint desubroutinizes every embedded subset anyway
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, characters())))
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "") + "-Regular"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".tmp")
    font.save(partial)
    partial.replace(out)  # never a half-written font where the app looks for it


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else FONT
    source = next((s for s in SOURCES if Path(s).exists()), None)
    if source is None:
        print(f"cjk_font: no Noto Sans CJK ({', '.join(SOURCES)}); PDFs use the system font", file=sys.stderr)
        return 0
    if out.exists() and out.stat().st_mtime >= max(Path(source).stat().st_mtime, Path(__file__).stat().st_mtime):
        return 0
    build(source, out)
    print(f"cjk_font: wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
