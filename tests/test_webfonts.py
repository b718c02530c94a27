"""The book's typefaces for screens: WOFF2 subsets of the faces the screen stylesheet uses."""

from __future__ import annotations

import io
import re

import pytest
from conftest import ROOT
from fontTools.ttLib import TTFont

from bookpress.webfonts import declared_faces, font_face_css, subset_woff2, web_fonts

LAYOUT = ROOT / "layout"
TEXT = "Stalin’s “Great Terror” — 1937–38: Сталин, Ежов; Ψ, a letter the fonts lack"


@pytest.fixture(scope="module")
def fonts():
    return web_fonts(LAYOUT, TEXT)


def test_the_faces_are_those_the_screen_stylesheet_uses(fonts):
    faces = {(font.family, font.weight, font.style) for font in fonts}
    assert ("Source Serif Pro", 400, "normal") in faces and (
        "Source Serif Pro",
        700,
        "italic",
    ) in faces
    assert ("Source Sans Pro", 700, "normal") in faces
    # web.css sets no light or semibold weight: the faces of fonts.css in those weights stay out.
    assert all(font.weight in (400, 700) for font in fonts)
    declared = {
        (family, weight, style) for family, weight, style, _ in declared_faces(LAYOUT / "fonts.css")
    }
    assert faces <= declared and ("Source Sans Pro", 300, "normal") in declared - faces
    assert len({font.filename for font in fonts}) == len(fonts)
    assert "SourceSerifPro-Regular.woff2" in {font.filename for font in fonts}


def test_each_face_is_woff2_cut_down_to_the_characters_of_the_text(fonts):
    sources = {path.stem: path for _, _, _, path in declared_faces(LAYOUT / "fonts.css")}
    wanted = set(TEXT) | set(map(chr, range(0x20, 0x7F)))  # ASCII is always kept
    for font in fonts:
        assert font.data[:4] == b"wOF2"
        with TTFont(io.BytesIO(font.data)) as parsed:
            characters = set(map(chr, parsed.getBestCmap()))
        with TTFont(sources[font.filename.removesuffix(".woff2")]) as source:
            has = set(map(chr, source.getBestCmap()))
        # Every character of the text the face has (the italics have no Cyrillic), no other.
        assert characters == wanted & has, font.filename
        assert "é" in has - characters  # a letter the face has but the text lacks
        assert len(font.data) < 16_000, f"{font.filename}: {len(font.data)} bytes"


def test_the_subsets_are_the_same_bytes_whatever_the_clock(monkeypatch):
    path = next(
        path
        for family, weight, style, path in declared_faces(LAYOUT / "fonts.css")
        if (family, weight, style) == ("Source Sans Pro", 400, "normal")
    )
    made = []
    for epoch in ("0", "1700000000", None):  # fontTools stamps SOURCE_DATE_EPOCH or the time
        if epoch is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        made.append(subset_woff2.__wrapped__(path, "abc"))
    assert made[0] == made[1] == made[2]
    with TTFont(path) as source, TTFont(io.BytesIO(made[0])) as subset:
        assert subset["head"].modified == source["head"].modified


def test_the_order_of_the_text_does_not_change_the_bytes(fonts):
    again = web_fonts(LAYOUT, "".join(reversed(TEXT)) + TEXT)
    assert [font.data for font in again] == [font.data for font in fonts]


def test_font_face_rules_name_each_face_and_its_address(fonts):
    css = font_face_css(fonts, lambda font: f"fonts/{font.filename}")
    rules = re.findall(r"@font-face \{([^}]*)\}", css)
    assert len(rules) == len(fonts)
    for font, rule in zip(fonts, rules, strict=True):
        assert f'font-family: "{font.family}"' in rule and f"font-weight: {font.weight}" in rule
        assert f"font-style: {font.style}" in rule
        assert f'src: url("fonts/{font.filename}") format("woff2")' in rule
    assert font_face_css((), lambda font: "") == ""
