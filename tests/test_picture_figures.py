"""Pictures of assets/ alone in their paragraph: numbered figures with caption and credit.

The book is tests/books/sources, built once, every product: a map credited in Markdown
(Figure 1, chapter 1), a photograph credited in assets/solovki.yml (Figure 2, chapter 1),
and a poster with no credit, too small for print (Figure 3, chapter 2).
"""

from __future__ import annotations

import re
import shutil
import zipfile

import markdown
import pypdfium2
import pypdfium2.raw as pdfium
import pytest
from conftest import BOOKS, ROOT, copy_of_test_book
from pdfpages import MM, BookPdf, squash

from bookpress.cli import main
from bookpress.pictures import PictureFigureExtension, picture_credits
from bookpress.render import FIGURE_PICTURE_HEIGHT, TEXT_BLOCKS_MM

MAP_CREDIT = "Drawn for this book, Test Author, CC BY 4.0"
PHOTO_CREDIT = (
    "Prokudin-Gorsky, Sergei, Library of Congress, Prints and Photographs Division, Public domain"
)
FIGURES = [
    ("figure-camps-map", "Figure 1", MAP_CREDIT),
    ("figure-solovki", "Figure 2", PHOTO_CREDIT),
    ("figure-poster", "Figure 3", ""),
]
PIXELS = {
    "figure-camps-map": (1100, 700),
    "figure-solovki": (600, 900),
    "figure-poster": (300, 200),
}
UNCREDITED = "chapters/02-thaw.md:23: the picture '../assets/poster.png' has no credit"


@pytest.fixture(scope="module")
def built(sources_book):
    return sources_book


@pytest.fixture(scope="module")
def book(built) -> BookPdf:
    return BookPdf(built[0] / "build" / "book.pdf")


# --- numbered, captioned and credited
# --------------------------------------------------------------


def test_the_credits_page_reads_each_picture_figure_in_reading_order(built):
    page = (built[0] / "build" / "book.html").read_text()
    assert picture_credits(page) == FIGURES


@pytest.mark.parametrize("figure_id, label, credit", FIGURES)
def test_each_picture_prints_its_number_caption_and_credit_on_its_page(
    book, figure_id, label, credit
):
    text = squash(book.texts[book.destinations[figure_id]])
    caption = {
        "figure-camps-map": "The main regions of the camps, 1937–1953.",
        "figure-solovki": "The Solovetsky monastery, used as a camp from 1923.",
        "figure-poster": "A poster of the Thaw.",
    }[figure_id]
    assert f"{label}. {caption} {credit}".strip() in text


def test_a_reference_by_the_files_name_gives_number_and_page(book):
    page = book.labels[book.destinations["figure-solovki"]]
    start = book.destinations["purge"]
    assert f"Figure 2 on page {page}" in squash(book.texts[start])


def test_picture_figures_share_the_figure_numbers_and_are_tagged_with_their_alt_text(book):
    from pdfpages import structure

    _, alts = structure(book.reader)
    assert "The Solovetsky monastery: white walls and towers by the sea" in alts
    assert None not in alts


# --- sized for the page
# -----------------------------------------------------------------------------


def placements(pdf):
    """(pixels, width mm, height mm) of each picture of the PDF."""
    document = pypdfium2.PdfDocument(str(pdf))
    found = []
    try:
        for index in range(len(document)):
            for picture in document[index].get_objects(
                filter=[pdfium.FPDF_PAGEOBJ_IMAGE], max_depth=3
            ):
                left, low, right, high = (value / MM for value in picture.get_bounds())
                found.append((tuple(picture.get_px_size()), right - left, high - low))
    finally:
        document.close()
    return found


@pytest.mark.parametrize(
    "pdf, page", [("book.pdf", ("a4", False)), ("large-print.pdf", ("a4", True))]
)
def test_a_picture_figure_is_at_most_half_the_page_high_the_column_wide_and_its_own_size(
    built, pdf, page
):
    column, height = TEXT_BLOCKS_MM[page]
    found = {pixels: (width, high) for pixels, width, high in placements(built[0] / "build" / pdf)}
    assert set(found) == set(PIXELS.values())
    for pixels, (width, high) in found.items():
        assert width / high == pytest.approx(pixels[0] / pixels[1], rel=0.01)
        assert width <= column + 0.2 and high <= height * FIGURE_PICTURE_HEIGHT + 0.2
        assert width <= pixels[0] / 96 * 25.4 + 0.05  # never larger than its pixels allow
    assert found[PIXELS["figure-camps-map"]][0] == pytest.approx(column, abs=0.2)
    assert found[PIXELS["figure-solovki"]][1] == pytest.approx(
        height * FIGURE_PICTURE_HEIGHT, abs=0.2
    )
    assert found[PIXELS["figure-poster"]][0] == pytest.approx(300 / 96 * 25.4, abs=0.05)


# --- warnings and errors
# ----------------------------------------------------------------------------


def test_a_picture_without_a_credit_is_a_warning_with_its_line(built):
    warnings = built[1]
    assert [warning for warning in warnings if warning.startswith(UNCREDITED)] == [
        UNCREDITED + ": say who made it, where it is from and under which licence it is printed"
    ]
    soft = (
        "chapters/02-thaw.md:23: the picture '../assets/poster.png' (300 × 200 pixels) prints 79 "
        "mm "
        "wide on A4, at 96 dpi"
    )
    assert any(warning.startswith(soft) for warning in warnings)


def test_a_picture_without_a_credit_fails_a_strict_build(tmp_path, capsys):
    root = copy_of_test_book(tmp_path, "sources")
    assert main(["--root", str(root), "--check", "--strict"]) == 1
    assert UNCREDITED in capsys.readouterr().err


def test_credited_pictures_warn_of_nothing(tmp_path):
    root = copy_of_test_book(tmp_path, "sources")
    (root / "assets" / "poster.yml").write_text(
        "creator: Unknown artist\nsource: A school archive\nlicence: Public domain\n"
    )
    shutil.copy(root / "assets" / "camps-map.png", root / "assets" / "poster.png")
    assert main(["--root", str(root), "--check", "--strict"]) == 0


@pytest.mark.parametrize(
    "yaml, message",
    [
        (
            "creator: Someone\nsource: An archive\nlicense: CC0 1.0\n",
            "assets/poster.yml:3: unknown key 'license'\n    how to fix: did you mean 'licence'?",
        ),
        (
            "creator: Someone\nsource: [an, archive]\nlicence: CC0 1.0\n",
            "assets/poster.yml:2: 'source' should be text, not a list",
        ),
        (
            "creator: Someone\nsource: An archive\n",
            "assets/poster.yml:1: the credit has no 'licence'",
        ),
        (
            "- creator: Someone\n",
            "assets/poster.yml:1: a picture's credit file holds the keys creator",
        ),
        ("creator: [Someone\n", "assets/poster.yml:2: this YAML cannot be read"),
    ],
)
def test_a_bad_credit_file_is_an_error_with_its_line(tmp_path, capsys, yaml, message):
    root = copy_of_test_book(tmp_path, "sources")
    (root / "assets" / "poster.yml").write_text(yaml)
    assert main(["--root", str(root), "--check"]) == 1
    assert message in capsys.readouterr().err


# --- screens
# ---------------------------------------------------------------------------------------


def test_the_web_edition_embeds_each_picture_with_alt_text_and_credit(built):
    page = (built[0] / "build" / "book.html").read_text()
    figure = re.search(
        r'<figure class="picture" id="figure-solovki"[^>]*>\s*'
        r'<img src="([^"]+)" alt="([^"]+)">.*?<span class="credit">([^<]+)</span>',
        page,
        re.DOTALL,
    )
    assert figure[1].startswith("data:image/jpeg;base64,")
    assert figure[2] == "The Solovetsky monastery: white walls and towers by the sea"
    assert figure[3] == PHOTO_CREDIT
    assert 'data-credit-url="https://www.loc.gov/pictures/item/prk2000000263/"' in page


def test_the_epub_holds_the_pictures_as_manifest_items(built):
    with zipfile.ZipFile(built[0] / "build" / "book.epub") as epub:
        names = epub.namelist()
        package = epub.read(next(name for name in names if name.endswith(".opf"))).decode()
        text = "".join(epub.read(name).decode() for name in names if name.endswith(".xhtml"))
    for picture in ("solovki.jpg", "camps-map.png", "poster.png"):
        assert picture in package and any(name.endswith(picture) for name in names)
    assert picture_credits(text) == FIGURES


def test_the_epub_passesepubcheck(built):
    from conftest import epubcheck

    report = epubcheck(built[0] / "build" / "book.epub")
    assert (
        report["checker"]["nFatal"]
        == report["checker"]["nError"]
        == report["checker"]["nWarning"]
        == 0
    ), report["messages"]


# --- the Markdown
# -----------------------------------------------------------------------------------


def convert(source: str) -> str:
    return markdown.markdown(source, extensions=["attr_list", "smarty", PictureFigureExtension()])


@pytest.mark.parametrize(
    "source, html",
    [
        (
            '![A map](../assets/map.png "The camps.")\nCredit: A. Drawer, *An Atlas*, CC BY 4.0',
            '<p class="picture"><img alt="A map" src="../assets/map.png" title="The camps." />'
            '<span class="credit">A. Drawer, <em>An Atlas</em>, CC BY 4.0</span></p>',
        ),
        (
            "![A map](../assets/map.png){#camps}",
            '<p class="picture"><img alt="A map" id="camps" src="../assets/map.png" /></p>',
        ),
        (
            "In a sentence ![a dot](../assets/dot.png) it stays.",  # inline: as before
            '<p>In a sentence <img alt="a dot" src="../assets/dot.png" /> it stays.</p>',
        ),
        (
            "![A map](../assets/map.png)\nand more words",  # not a credit: a sentence
            '<p><img alt="A map" src="../assets/map.png" />\nand more words</p>',
        ),
        (
            "![A timeline](timeline.yml)",
            '<p><img alt="A timeline" src="timeline.yml" /></p>',
        ),  # data
    ],
)
def test_a_picture_alone_in_its_paragraph_in_markdown(source, html):
    assert convert(source) == html


def test_the_test_books_pictures_are_small_files(tmp_path):
    for picture in (BOOKS / "sources" / "assets").iterdir():
        assert picture.stat().st_size < 10_000, picture
    assert (ROOT / "layout" / "_picture.html").is_file()
