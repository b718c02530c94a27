"""Source boxes (::: source): numbered per chapter, cross-referenced with their pages, kept on
one page, tagged as a unit in the PDF and as a figure on screens.

The book is tests/books/sources: an unnumbered introduction with one source, chapter 1 with
two (one written as a quotation) and two pictures, chapter 2 with Khrushchev's speech and a
report longer than a page. It is built once, every product, in a temporary folder.
"""

from __future__ import annotations

import logging
import re
import subprocess
import zipfile
from pathlib import Path

import markdown
import pytest
from conftest import copy_of_test_book, outside_checker
from pdfpages import BookPdf, squash

from bookpress.cli import main
from bookpress.extensions import IdRegistry, SourceBoxExtension
from bookpress.load import load_book

#: Each source's name and the number it prints.
NUMBERS = {
    "a-letter": "Source 1",
    "order-00447": "Source 1.1",
    "camp-song": "Source 1.2",
    "secret-speech": "Source 2.1",
    "commission-report": "Source 2.2",
}
LONG = "commission-report"  # longer than a page


def copy_of_the_sources_book(folder: Path) -> Path:
    return copy_of_test_book(folder, "sources")


@pytest.fixture(scope="module")
def built(sources_book) -> Path:
    root, warnings = sources_book
    # The one picture without a credit, which is also too small for print: nothing else.
    assert {warning.split(": ")[0] for warning in warnings} == {"chapters/02-thaw.md:23"}, warnings
    return root / "build"


@pytest.fixture(scope="module")
def book(built) -> BookPdf:
    return BookPdf(built / "book.pdf")


# --- numbers and pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, number", NUMBERS.items())
def test_each_source_prints_its_number_in_its_heading_on_the_page_it_starts(book, name, number):
    page = book.destinations[name]
    assert book.destinations[f"{name}-title"] == page
    lines = [line.strip() for line in book.texts[page].splitlines()]
    assert number.upper() in lines  # the heading, in capitals


def test_sources_are_numbered_in_reading_order_per_chapter(book):
    text = squash(" ".join(book.texts))
    headings = re.findall(r"SOURCE (\d+(?:\.\d+)?)", text)
    assert headings == ["1", "1.1", "1.2", "2.1", "2.2"]


@pytest.mark.parametrize(
    "name, chapter_page",
    [
        ("secret-speech", "purge"),  # to a later chapter: the page from the pass before
        ("order-00447", "thaw"),  # to an earlier chapter
        ("order-00447", "purge"),  # in its own chapter: the page from CSS
        ("camp-song", "purge"),
        ("a-letter", "introduction"),  # in an unnumbered chapter: "Source 1"
    ],
)
def test_a_cross_reference_prints_the_number_and_the_true_page(book, name, chapter_page):
    page = book.labels[book.destinations[name]]
    start = book.destinations[chapter_page]
    text = squash(" ".join(book.texts[start : start + 4]))
    assert f"{NUMBERS[name]} on page {page}" in text


# --- kept on one page
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name in NUMBERS if name != LONG])
def test_a_source_box_does_not_break_across_pages(book, name):
    assert book.destinations[f"{name}-provenance"] == book.destinations[name]


def test_a_source_longer_than_a_page_still_prints_whole(book):
    first, last = book.destinations[LONG], book.destinations[f"{LONG}-provenance"]
    assert last > first
    text = squash(" ".join(book.texts[first : last + 1]))
    for number in range(1, 19):
        assert f"Paragraph {number} of a long report." in text
    assert "Report of the Pospelov commission to the Presidium" in text


def test_the_provenance_prints_after_a_dash_without_the_dashes_typed(book):
    text = squash(" ".join(book.texts))
    assert (
        "\u2014\u00a0NKVD Operational Order No. 00447" in text
        or "\u2014 NKVD Operational Order" in text
    )
    assert "-- NKVD" not in text and "\u2013 NKVD" not in text


# --- tagged as a unit
# ------------------------------------------------------------------------------


def sections(reader):
    """The /Sect elements of the structure tree, each as the list of its children's types."""
    found = []

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return
        children = node.get("/K")
        children = (
            children if isinstance(children, list) else ([children] if children is not None else [])
        )
        if node.get("/S") == "/Sect":
            found.append(
                [
                    child.get_object().get("/S")
                    for child in children
                    if isinstance(child.get_object(), dict)
                ]
            )
        for child in children:
            walk(child)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_each_source_is_a_section_of_the_structure_tree_headed_by_its_heading(book):
    # A chapter is a /Sect too, and WeasyPrint makes one element of each page an element
    # runs over: the sources are the sections that open with their heading and an extract.
    found = [kinds for kinds in sections(book.reader) if kinds[:2] == ["/H3", "/BlockQuote"]]
    assert len(found) == len(NUMBERS)
    assert (
        sum("/P" in kinds for kinds in found) == len(NUMBERS) - 1
    )  # the provenance; not the long one's
    questions = [kinds for kinds in found if "/H4" in kinds]
    assert len(questions) == 2 and all("/L" in kinds for kinds in questions)


def test_the_source_headings_are_in_neither_contents_nor_bookmarks(book):
    titles = [title for _, title, _ in book.outline()]
    assert not any(title.upper().startswith("SOURCE") for title in titles)
    contents = book.texts[book.labels.index("v")]
    assert "Source 1" not in contents and "Questions" not in contents


@pytest.mark.parametrize("name", ["book.pdf", "large-print.pdf", "handouts/02-thaw.pdf"])
def test_outloud_finds_no_error(built, name):
    run = subprocess.run(
        [str(outside_checker("outloud")), "-q", str(built / name)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert " 0 error(s)" in run.stdout, run.stdout + run.stderr


def test_the_handouts_carry_their_chapters_sources_with_the_books_pages(built, book):
    handout = BookPdf(built / "handouts" / "02-thaw.pdf")
    page = handout.destinations["secret-speech"]
    assert "SOURCE 2.1" in handout.texts[page]
    assert handout.labels[page] == book.labels[book.destinations["secret-speech"]]
    text = squash(" ".join(handout.texts))
    assert f"Source 1.1 on page {book.labels[book.destinations['order-00447']]}" in text


# --- screens
# ---------------------------------------------------------------------------------------


def test_the_web_edition_shows_a_source_as_a_figure_named_by_its_heading(built):
    page = (built / "book.html").read_text()
    opening = re.search(r'<figure class="source" id="secret-speech"([^>]*)>', page)
    assert opening and 'aria-labelledby="secret-speech-title"' in opening[1]
    assert 'aria-describedby="secret-speech-provenance"' in opening[1]
    assert re.search(r'<h3 class="source-title" id="secret-speech-title">Source 2\.1</h3>', page)
    assert re.search(r'<p class="provenance" id="secret-speech-provenance">Nikita Khrushchev', page)
    assert '<section class="source"' not in page


def test_the_epub_shows_sources_as_figures_with_printed_pages(built, book):
    with zipfile.ZipFile(built / "book.epub") as epub:
        text = "".join(
            epub.read(name).decode() for name in epub.namelist() if name.endswith(".xhtml")
        )
    assert text.count('<figure class="source"') == len(NUMBERS)
    page = book.labels[book.destinations["secret-speech"]]
    assert re.search(rf'href="[^"]*#secret-speech">Source 2\.1\u00a0on page\u00a0{page}</a>', text)


# --- the Markdown, and what is wrong with it
# -------------------------------------------------------


def convert(source: str) -> str:
    return markdown.markdown(source, extensions=["smarty", SourceBoxExtension(IdRegistry())])


@pytest.mark.parametrize(
    "source, html",
    [
        (
            "::: source {#speech}\nWords.\n\n— Someone, 1956\n:::",
            '<div class="source" id="speech">\n<h2 class="source-title" '
            'id="speech-title">Source</h2>\n'
            '<blockquote class="source-extract">\n<p>Words.</p>\n</blockquote>\n'
            '<p class="provenance">Someone, 1956</p>\n</div>',
        ),
        (
            "::: source\n> A quotation\n> in two lines.\n\n-- Someone -- a poet, 1937\n\n"
            "### Questions\n\n1. Why?\n:::",
            '<div class="source" id="source">\n<h2 class="source-title" '
            'id="source-title">Source</h2>\n'
            '<blockquote class="source-extract">\n<p>A quotation\nin two '
            "lines.</p>\n</blockquote>\n"
            '<p class="provenance">Someone &ndash; a poet, '
            "1937</p>\n<h3>Questions</h3>\n<ol>\n<li>Why?</li>\n"
            "</ol>\n</div>",
        ),
    ],
)
def test_a_source_box_in_markdown(source, html):
    assert convert(source) == html


def test_a_source_without_a_provenance_line_is_a_warning_with_its_line(project, caplog):
    (project / "chapters" / "02-second.md").write_text(
        "---\ntitle: Two\n---\n\nText.\n\n::: source {#unsigned}\nWords of no one.\n:::\n"
    )
    with caplog.at_level(logging.WARNING, logger="bookpress"):
        load_book(project)
    found = [record.book_error.format(project).split("\n") for record in caplog.records]
    assert found == [
        [
            "chapters/02-second.md:7: the source box has no provenance line: who wrote it, "
            "what it is, when and where",
            "    how to fix: add a paragraph that starts with an em dash (— or --) after the "
            "extract, e.g. '— Nikita Khrushchev, speech to the 20th Party Congress, Moscow, "
            "25 February 1956'",
        ]
    ]


def test_an_unknown_reference_is_still_an_error_naming_the_sources(project, capsys):
    (project / "chapters" / "02-second.md").write_text(
        "---\ntitle: Two\n---\n\nSee {@secret-speeh}.\n\n::: source {#secret-speech}\nWords.\n\n"
        "— Nikita Khrushchev, 1956\n:::\n"
    )
    assert main(["--root", str(project), "--check"]) == 1
    error = capsys.readouterr().err
    assert "chapters/02-second.md:5: {@secret-speeh} names no figure" in error
    assert "did you mean 'secret-speech'?" in error
