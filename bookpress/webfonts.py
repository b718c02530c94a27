"""The book's typefaces for screens: WOFF2 subsets of the faces the screen stylesheet uses.

The web edition carries its fonts inside its one page (as data URIs), the EPUB as files of
its own; both take them from here. Each face is cut down to the characters of the text it
is for, so a reader downloads a few kilobytes per face instead of the whole typeface.

The faces are those of layout/fonts.css served from the font packages (bookpress.fonts),
never the system's, and only those layout/web.css asks for: a family it names, in a
weight it sets (400 and 700 always: text and bold), upright and italic.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .fonts import CSS_COMMENT, FAMILY, FONT_FACE, FONT_URL, IGNORED, book_faces

#: The stylesheet that decides which faces a screen needs.
SCREEN_CSS = "web.css"

WEIGHT = re.compile(r"font-weight\s*:\s*(?P<value>\w+)", re.IGNORECASE)
STYLE = re.compile(r"font-style\s*:\s*(?P<value>\w+)", re.IGNORECASE)
WEIGHT_NAMES = {"normal": 400, "bold": 700}
#: The weights every text needs: its body, and <strong>, <b> and headings (bold by default).
DEFAULT_WEIGHTS = frozenset({400, 700})


@dataclass(frozen=True)
class WebFont:
    """One face of layout/fonts.css as a WOFF2 subset."""

    family: str  # as in layout/fonts.css
    weight: int
    style: str  # "normal" or "italic"
    filename: str  # the face's file name with .woff2, e.g. "SourceSerifPro-Regular.woff2"
    data: bytes  # WOFF2, subset to the text's characters, the same bytes on every run


def web_fonts(layout_dir: Path, text: str) -> tuple[WebFont, ...]:
    """The faces the screen stylesheet uses, each subset to the characters of text.

    In the order of layout/fonts.css; a face the fonts.css declares but web.css never asks
    for (a weight it does not set, a family it does not name) is left out.
    """
    wanted_families, wanted_weights = _screen_needs(layout_dir / SCREEN_CSS)
    characters = _characters(text)
    fonts = []
    for family, weight, style, path in declared_faces(layout_dir / "fonts.css"):
        if family in wanted_families and weight in wanted_weights:
            fonts.append(
                WebFont(family, weight, style, path.stem + ".woff2", subset_woff2(path, characters))
            )
    return tuple(fonts)


def font_face_css(fonts: Iterable[WebFont], url: Callable[[WebFont], str]) -> str:
    """@font-face rules for the fonts; url(font) is the address of its data.

    font-display: swap shows the text at once, in a fallback face, while a font loads.
    """
    rules = []
    for font in fonts:
        rules.append(
            f'@font-face {{ font-family: "{font.family}"; src: url("{url(font)}") format("woff2"); '
            f"font-weight: {font.weight}; font-style: {font.style}; font-display: swap; }}"
        )
    return "\n".join(rules) + "\n" if rules else ""


def declared_faces(fonts_css: Path) -> list[tuple[str, int, str, Path]]:
    """(family, weight, style, file) of each @font-face of fonts.css from a font package."""
    files = {path.name: path for path, _ in book_faces(fonts_css)}
    text = CSS_COMMENT.sub("", fonts_css.read_text(encoding="utf-8"))
    faces = []
    for rule in FONT_FACE.finditer(text):
        body = rule["body"]
        family, url = FAMILY.search(body), FONT_URL.search(body)
        if not family or not url or url["file"] not in files:
            continue
        weight, style = WEIGHT.search(body), STYLE.search(body)
        faces.append(
            (
                (family["dq"] or family["sq"] or family["bare"]).strip(),
                _weight(weight["value"]) if weight else 400,
                style["value"].lower() if style else "normal",
                files[url["file"]],
            )
        )
    return faces


def _screen_needs(css: Path) -> tuple[set[str], set[int]]:
    """The font families web.css names (quoted, in any stack) and the weights it sets."""
    text = CSS_COMMENT.sub("", css.read_text(encoding="utf-8"))
    families = set(re.findall(r'"([^"]+)"', text)) | set(re.findall(r"'([^']+)'", text))
    weights = set(DEFAULT_WEIGHTS) | {_weight(match["value"]) for match in WEIGHT.finditer(text)}
    return families, weights


def _weight(value: str) -> int:
    value = value.lower()
    return WEIGHT_NAMES.get(value) or (int(value) if value.isdigit() else 400)


def _characters(text: str) -> str:
    """The distinct characters of text, sorted: the subset depends on the set, not the order.

    The ASCII letters, digits and signs are always kept: generated text of the stylesheet
    (list numbers, brackets) and a reader's search field need them.
    """
    ascii_text = "".join(map(chr, range(0x20, 0x7F)))
    return "".join(sorted(set(IGNORED.sub("", text)) | set(ascii_text)))


@functools.lru_cache(maxsize=64)
def subset_woff2(path: Path, characters: str) -> bytes:
    """The font cut down to the characters, as WOFF2; the same bytes on every run.

    fontTools stamps the 'head' table with the time of saving (or SOURCE_DATE_EPOCH);
    loaded with recalcTimestamp=False it keeps the source file's own date instead, so the
    bytes depend on nothing but the font and the characters.
    """
    from fontTools import (
        subset,
    )  # with brotli for WOFF2; imported only when a screen edition is made
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False  # screens render without TrueType hints; a third smaller
    # The default features (kerning, ligatures, marks): "*" would keep small capitals and every
    # alternate figure, glyphs the page never shows, and double the size.
    options.name_IDs = ["*"]  # keep the licence and copyright records of the name table
    options.notdef_outline = True
    with TTFont(path, recalcTimestamp=False, recalcBBoxes=True) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=characters)
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.flavor = "woff2"
        font.save(buffer, reorderTables=True)
    return buffer.getvalue()
