"""Code prints as code: fenced and indented blocks and code spans, in Source Code Pro,
highlighted, long lines wrapped after a mark, no line split across pages, nothing in code
read as markup or refused by a check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pypdfium2
import pytest
from conftest import BOOKS, ROOT, build_quietly
from pdfpages import BookPdf
from pypdf import PdfReader

from bookpress.cli import main
from bookpress.extensions import IdRegistry
from bookpress.index import IndexTerm
from bookpress.load import without_code
from bookpress.render import markdown_converter
from bookpress.sanitize import clean_html

MM = 72 / 25.4
#: The long lines of 02-long-listing.md: every third line, from its "begins" to its "ends".
LONG_LINES = range(3, 91, 3)
SUBSET_FONT = re.compile(r"^[A-Z]{6}\+Source-(Serif|Sans|Code)-Pro(-[A-Za-z-]+)?$")
CONTINUATION_MARK = (115, 109, 102)  # the arrow's grey, #736d66 in book.css


def convert(text: str, terms=()) -> tuple[str, IdRegistry]:
    """The chapter text as the book renders it (allow-list included), and its registry."""
    registry = IdRegistry()
    html = clean_html(markdown_converter(registry, terms).convert(text))
    return html, registry


# --- Markdown: what is code ------------------------------------------------------------------


def test_a_fenced_block_is_code_in_its_language_line_by_line():
    html, _ = convert('```python\ndef f(x):\n    return "x"\n```\n')
    assert '<div class="codehilite">' in html
    assert '<code class="language-python">' in html
    assert html.count('<span class="line">') == 2
    indented = '<span class="indent">    </span><span class="text"><span class="k">return</span>'
    assert indented in html


def test_tildes_and_indented_blocks_are_code_too():
    html, _ = convert("~~~\nthe first\n~~~\n\nText.\n\n    the second\n    <b>bold?</b>\n")
    assert html.count('<div class="codehilite">') == 2
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "<b>" not in html


def test_nothing_in_code_is_markup():
    terms = (IndexTerm("variable"),)
    text = (
        "A variable.\n\n```markdown\n# Not a heading\n\n::: review\n{^variable} and a variable,"
        ' "quotes" -- and a call[^n]\n:::\n```\n\n`{^variable}` and `"quotes"`\n\n'
        "[^n]: A note.\n"
    )
    html, registry = convert(text, terms)
    assert "<h1" not in html and not registry.headings
    assert 'class="review"' not in html
    assert len(registry.marks) == 1  # the variable of the text, not those of the code
    assert "\u201c" not in html and "\u2013" not in html  # no curly quotes, no dash
    assert "footnote" not in html and "note-call" not in html  # the note is never called


def test_highlighting_survives_the_allow_list():
    html, _ = convert('```html\n<img src="x.png"> <!-- a comment -->\n```\n')
    for kept in (
        'class="nt"',
        'class="na"',
        'class="s"',
        'class="cm"',
        'class="line"',
        'class="text"',
    ):
        assert kept in html
    assert "<img" not in html


def test_a_long_code_span_may_break_anywhere_a_short_one_not():
    html, _ = convert("`print()` and `a_very_long_name_that_runs_on_and_on()`\n")
    assert "<code>print()</code>" in html
    assert '<code class="long">a_very_long_name_that_runs_on_and_on()</code>' in html


# --- the checks read the text with its code blanked out --------------------------------------


def test_without_code_blanks_code_and_keeps_every_line():
    text = (
        "Text `<script>` and ``a ` b`` and `two\nlines` end.\n\n```html\n<script>\n:::\n```\n\n"
        "    {^indented}\n\nback\n\n~~~\n{#id}\n~~~\n"
    )
    blanked = without_code(text)
    assert blanked.count("\n") == text.count("\n")
    assert blanked.split("\n")[:2] == ["Text   and   and ", " end."]
    for markup in ("<script>", ":::", "{^", "{#", "```", "~~~"):
        assert markup not in blanked
    assert "back" in blanked


def test_without_code_leaves_what_is_not_code():
    text = (
        "- an item\n\n    its second paragraph <b>\n\n        code in the item <i>\n\n"
        "[^note]: a note\n\n    its second paragraph <u>\n\n<div>\n\n    <s>raw</s>\n\n</div>\n"
        "\\`escaped\\` <em>\n"
    )
    blanked = without_code(text).split("\n")
    assert blanked[2] == "    its second paragraph <b>"
    assert blanked[4] == ""  # code inside the item
    assert blanked[8] == "    its second paragraph <u>"
    assert blanked[12] == "    <s>raw</s>"
    assert blanked[15] == "\\`escaped\\` <em>"


CHAPTER_WITH_CODE = """---
title: One
---

```html
<script src="app.js"></script>
<img src="photo.png">
<a href="../../etc/passwd" onclick="go()">x</a>
::: review
```

    ![A picture](missing.png) {@nothing} {#twice} {#twice} {^}

Inline: `<iframe>`, `{^}`, `:::`, `Ǻ`.
"""


def test_markup_shown_in_code_is_checked_by_nothing(project, capsys):
    (project / "chapters" / "01-first.md").write_text(CHAPTER_WITH_CODE, encoding="utf-8")
    assert main(["--root", str(project), "--check"]) == 0
    # Nothing either for a character that only the code's font has (U+01FA).
    assert capsys.readouterr().err == ""


def test_the_same_markup_outside_code_is_still_refused(project, capsys):
    text = CHAPTER_WITH_CODE + "\n<script>alert(1)</script>\n"
    (project / "chapters" / "01-first.md").write_text(text, encoding="utf-8")
    assert main(["--root", str(project), "--check"]) == 1
    err = capsys.readouterr().err
    assert "chapters/01-first.md:16: <script> is not allowed in a chapter" in err
    assert err.count("chapters/01-first.md:") == 1


# --- the printed book ------------------------------------------------------------------------


def computing_project(folder: Path) -> Path:
    """tests/books/computing with the repository's layout, in a folder of its own."""
    root = folder / "project"
    shutil.copytree(BOOKS / "computing", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir()
    return root


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """Build an edition of the computing book (once, without a warning); its PDFs."""
    root = computing_project(tmp_path_factory.mktemp("computing"))
    built: dict[tuple, list[Path]] = {}

    def build(*arguments: str) -> list[Path]:
        if arguments not in built:
            folder = root.parent / f"build-{len(built)}"
            assert build_quietly("--root", str(root), "--build-dir", str(folder), *arguments) == 0
            built[arguments] = sorted(folder.rglob("*.pdf"))
        return built[arguments]

    return build


EDITIONS = {
    "A4": ("--product", "book"),
    "Letter": ("--product", "book", "--paper", "letter"),
    "booklet": ("--product", "booklet"),
    "large print": ("--product", "large-print"),
    "handouts": ("--product", "handouts"),
}


@pytest.fixture
def a4(edition) -> BookPdf:
    return BookPdf(edition(*EDITIONS["A4"])[0])


def test_code_prints_as_code_and_its_headings_are_no_headings(a4):
    text = " ".join(a4.texts)
    assert "def greet(names: list[str]) -> None:" in text
    assert "# Shopping list" in text and '<script src="app.js"></script>' in text
    assert "```" not in text and "~~~" not in text
    titles = [title for _, title, _ in a4.outline()]
    assert "A program" in titles and not any("Shopping" in title for title in titles)
    contents = next(page for page in a4.texts if "Contents" in page)
    assert "Shopping" not in contents and "Lists in Markdown" in contents


def test_the_code_font_is_embedded_as_subsets_and_no_system_font(a4):
    fonts = embedded_fonts(a4.path)
    assert all(SUBSET_FONT.match(name) for name in fonts), sorted(fonts)
    faces = {name.split("+")[1] for name in fonts}
    assert {
        "Source-Code-Pro",
        "Source-Code-Pro-Bold",
        "Source-Code-Pro-Italic",
        "Source-Code-Pro-Cyrillic",
    } <= faces
    assert all(fonts.values()), "every font carries its file"


def embedded_fonts(pdf: Path) -> dict[str, bool]:
    """The /BaseFont of every font of the pages, and whether its file is in the PDF."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            for each in font.get_object().get("/DescendantFonts", [font]):
                each = each.get_object()
                descriptor = each["/FontDescriptor"].get_object()
                fonts[str(each["/BaseFont"]).lstrip("/")] = any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
                )
    return fonts


def test_cyrillic_in_code_is_drawn_from_the_cyrillic_part(a4):
    # Each part of Source Code Pro is a family of its own (fonts.css): one shared family
    # would draw Cyrillic with the Latin part's glyphs, while the text still read right.
    cyrillic_runs = []

    def visit(text, cm, tm, font, size):
        if re.search("[\u0400-\u04ff]", text):
            cyrillic_runs.append(str(font["/BaseFont"]))

    for page in a4.pages:
        page.extract_text(visitor_text=visit)
    assert cyrillic_runs and all(
        name.endswith("+Source-Code-Pro-Cyrillic") for name in cyrillic_runs
    ), cyrillic_runs


def test_a_long_line_wraps_indented_after_a_mark(a4):
    page = next(i for i, text in enumerate(a4.texts) if "L003 begins" in text)
    runs = a4.runs[page]
    start = next(run for run in runs if run.text.lstrip().startswith("result_003"))
    continued = next(run for run in runs if "second_argument_003" in run.text)
    assert continued.y < start.y - 5  # on a line below
    assert continued.x > start.x + 5  # further in
    document = pypdfium2.PdfDocument(str(a4.path))
    try:
        image = document[page].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()
    colours = {colour for _, colour in image.getcolors(1 << 22)}
    assert any(
        all(abs(a - b) < 8 for a, b in zip(colour, CONTINUATION_MARK, strict=False))
        for colour in colours
    )


@pytest.mark.parametrize("name", list(EDITIONS))
def test_no_code_runs_into_the_outer_5mm_of_any_page(edition, name):
    for pdf in edition(*EDITIONS[name]):
        for index, image in enumerate(pages_as_images(pdf)):
            width, height = image.size
            strip = round(5 * MM)
            bands = [
                (0, 0, width, strip),
                (0, height - strip, width, height),
                (0, 0, strip, height),
                (width - strip, 0, width, height),
            ]
            if name == "booklet":  # two pages a sheet: their edges meet at the fold
                bands.append((width // 2 - strip, 0, width // 2 + strip, height))
            for band in bands:
                assert image.crop(band).getextrema()[0] >= 250, (
                    f"{pdf.name} page {index + 1} has ink in its outer 5 mm"
                )


def pages_as_images(pdf: Path):
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        for index in range(len(document)):
            yield document[index].render(scale=1).to_pil().convert("L")
    finally:
        document.close()


@pytest.mark.parametrize("name", list(EDITIONS))
def test_no_code_line_is_split_across_pages(edition, name):
    pages = [" ".join(text.split()) for pdf in edition(*EDITIONS[name]) for text in page_texts(pdf)]
    for number in LONG_LINES:
        begins = [i for i, text in enumerate(pages) if f'"L{number:03d} begins"' in text]
        ends = [i for i, text in enumerate(pages) if f'"L{number:03d} ends")' in text]
        assert len(begins) == 1 and begins == ends, (name, number, begins, ends)
    token = [i for i, text in enumerate(pages) if "LONGTOKEN" in text]
    assert token and [i for i, text in enumerate(pages) if "xEND" in text] == token
    first, last = (
        next(i for i, text in enumerate(pages) if f'"L{n:03d} begins"' in text)
        for n in (LONG_LINES[0], LONG_LINES[-1])
    )
    assert last != first  # the listing is longer than a page


def page_texts(pdf: Path) -> list[str]:
    """The text of each page; of each half of a sheet of two pages (the booklet's)."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        texts = []
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            halves = [(0, width / 2), (width / 2, width)] if width > height else [(0, width)]
            textpage = page.get_textpage()
            texts += [
                textpage.get_text_bounded(left=left, bottom=0, right=right, top=height)
                for left, right in halves
            ]
        return texts
    finally:
        document.close()


def test_the_web_edition_shows_code_as_code(tmp_path):
    root = computing_project(tmp_path)
    assert (
        build_quietly("--root", str(root), "--build-dir", str(tmp_path / "web"), "--product", "web")
        == 0
    )
    html = (tmp_path / "web" / "book.html").read_text(encoding="utf-8")
    assert html.count('<div class="codehilite">') == 9
    assert '&lt;<span class="nt">script</span>' in html and "<script" not in html
    assert ".codehilite .text {" in html  # web.css's rules, in the page
