"""The screen editions carry the printed page numbers: each marker where the PDF puts its text."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from pdfpages import BookPdf, squash

from bookpress.templates import BLOCK_START, numbered_blocks

#: A printed page's marker as the web edition writes it (bookpress/web.py).
MARKER = re.compile(
    r'<span class="page-break" role="doc-pagebreak" id="page-([^"]+)" '
    r'title="Page ([^"]+)" data-page="[^"]+"></span>'
)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def editions(every_product):
    """book.pdf and book.html from one build: the web edition numbered from that layout."""
    return BookPdf(every_product / "book.pdf"), (every_product / "book.html").read_text(
        encoding="utf-8"
    )


def _letters(text: str) -> str:
    """Text compared across editions: no spaces, no case (print sets some headings in capitals)."""
    return re.sub(r"\W", "", squash(text)).casefold()


def _words_after(page: str, start: int, letters: int = 24) -> str:
    """The first letters of the text that follows a marker, as a reader sees it (a drawing's
    <title>, its alt text, is read aloud but not printed)."""
    following = re.sub(r"<title>.*?</title>", " ", page[start : start + 3000], flags=re.S)
    text = _letters(htmllib.unescape(TAG.sub(" ", following)))
    return text[:letters]


def test_every_page_marker_stands_where_the_pdf_prints_its_text(editions):
    pdf, page = editions
    markers = list(MARKER.finditer(page))
    assert len(markers) >= 15
    wrong = []
    for marker in markers:
        label = marker[1]
        assert marker[2] == label
        printed = _letters(pdf.body_text(pdf.index_of_label(label)))
        words = _words_after(page, marker.end())
        if words not in printed:
            wrong.append((label, words))
    assert not wrong, wrong


def test_markers_follow_the_pages_in_order_once_each(editions):
    pdf, page = editions
    labels = [int(marker[1]) for marker in MARKER.finditer(page)]
    assert labels == sorted(set(labels))
    # Every page that opens a chapter has its marker: a chapter's title begins the page.
    openings = {
        pdf.labels[index]
        for depth, title, index in pdf.outline()
        if depth == 0 and title != "Index"
    }
    assert openings - {"i", "ii", "iii", "iv"} <= set(map(str, labels))


def test_a_page_without_a_marker_is_blank_or_begins_inside_a_block(editions):
    pdf, page = editions
    marked = {marker[1] for marker in MARKER.finditer(page)}
    block_starts = {_words_after(page, block.end(), 16) for block in BLOCK_START.finditer(page)}
    index_starts = next(
        index for depth, title, index in pdf.outline() if depth == 0 and title == "Index"
    )
    for index, label in enumerate(pdf.labels[:index_starts]):
        if label.isdigit() and label not in marked:
            first = _letters(pdf.body_text(index))[:16]
            assert not first or first not in block_starts, (label, first)


def test_cross_references_give_the_printed_page(editions):
    pdf, page = editions
    references = re.findall(
        r'<a class="xref" href="#([^"]+)">([^<]+)\u00a0on page\u00a0(\d+)</a>', page
    )
    assert references
    for target, label, folio in references:
        assert pdf.destinations[target] == pdf.index_of_label(folio), (target, label, folio)


def test_blocks_get_ids_in_reading_order_and_keep_their_own():
    section = (
        '<section><p>One</p><h3 id="kept">Two</h3><ul><li>Three</li></ul><pre>x</pre></section>'
    )
    assert numbered_blocks(section, "ch") == (
        '<section><p id="ch__1">One</p><h3 id="kept">Two</h3><ul><li id="ch__2">Three</li></ul>'
        '<pre id="ch__3">x</pre></section>'
    )


#: An index entry of the web edition: its heading and locators, before any sub-entries.
INDEX_ENTRY = re.compile(
    r'<li class="index-(?:entry|subentry)"[^>]*>(.*?)(?=<ul>|</li>)', re.DOTALL
)


def test_the_index_gives_the_printed_pages(editions):
    pdf, page = editions
    index_starts = next(
        index for depth, title, index in pdf.outline() if depth == 0 and title == "Index"
    )
    printed = "".join(
        _letters(pdf.body_text(index)) for index in range(index_starts, len(pdf.pages))
    )
    entries = [
        _letters(htmllib.unescape(TAG.sub(" ", entry))) for entry in INDEX_ENTRY.findall(page)
    ]
    assert len(entries) > 100
    assert [entry for entry in entries if entry not in printed] == []
