"""The real booklet, built once, read back from its PDF as a reader would see it."""

from __future__ import annotations

import html
import re

import markdown
import pypdfium2
import pytest
from conftest import ROOT
from pdfpages import MM, contents_lines, contents_pages, squash

from bookpress.load import load_book


def sources():
    return load_book(ROOT)


# --- contents -----------------------------------------------------------------------------


def test_contents_lists_every_chapter_and_section(book):
    titles = [title for title, _ in contents_lines(book)]
    for chapter in sources().chapters:
        assert squash(chapter.title) in titles
    assert len(titles) >= len(sources().chapters) + 10  # chapters and their sections


def test_each_contents_number_is_the_folio_of_the_page_where_the_heading_stands(book):
    lines = contents_lines(book)
    assert lines
    for title, folio in lines:
        page = book.index_of_label(folio)
        assert book.folio(page) == folio, f"page labelled {folio} prints {book.folio(page)}"
        assert title in squash(book.body_text(page)), f"'{title}' is not on page {folio}"


def test_each_contents_entry_links_to_its_heading(book):
    numbers = {folio for _, folio in contents_lines(book)}
    links = [
        annotation.get_object()
        for index in contents_pages(book)
        for annotation in book.pages[index].get("/Annots", [])
    ]
    targets = {link["/Dest"] for link in links if link.get("/Subtype") == "/Link"}
    assert len(targets) == len(contents_lines(book))
    for target in targets:
        assert book.labels[book.destinations[target]] in numbers


# --- outline, labels, folios ----------------------------------------------------------------


def test_top_level_bookmarks_are_the_chapters_in_order(book):
    top = [title for depth, title, _ in book.outline() if depth == 0]
    back = ["Glossary", "Picture credits", "Index"]  # the book has maps: their credits
    assert top == [chapter.title for chapter in sources().chapters] + back


def test_each_bookmark_lands_on_the_page_carrying_its_title(book):
    outline = list(book.outline())
    assert any(depth == 1 for depth, _, _ in outline)
    for _, title, page in outline:
        assert squash(title) in squash(book.body_text(page)), title


def test_page_labels_equal_printed_folios(book):
    printed = 0
    for index, label in enumerate(book.labels):
        folio = book.folio(index)
        if folio is not None:
            assert folio == label, f"page {index + 1} prints {folio} but is labelled {label}"
            printed += 1
    assert printed > len(book.labels) / 2


def test_front_matter_is_roman_and_the_first_chapter_starts_at_1(book):
    labels = book.labels
    first_body = labels.index("1")
    assert labels[:first_body] == ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii"][:first_body]
    assert labels[first_body:] == [str(n) for n in range(1, len(labels) - first_body + 1)]
    assert squash(sources().chapters[0].title) in squash(book.body_text(first_body))
    assert first_body % 2 == 0, "page 1 must be a right-hand page"


def test_chapters_start_on_right_hand_pages(book):
    for depth, title, page in book.outline():
        if depth == 0:
            assert int(book.labels[page]) % 2 == 1, f"{title} starts on page {book.labels[page]}"


def test_running_heads_book_title_left_chapter_title_right(book):
    title = sources().info.title.upper()
    heads = {chapter.running_head.upper() for chapter in sources().chapters}
    heads |= {"GLOSSARY", "PICTURE CREDITS", "INDEX"}  # the parts the book makes
    checked = 0
    for index, label in enumerate(book.labels):
        head = book.running_head(index)
        if label.isdigit() and head:
            expected = title if int(label) % 2 == 0 else None
            if expected:
                assert squash(head) == title
            else:
                assert squash(head) in heads
            checked += 1
    assert checked > 10


def test_no_blank_page_carries_a_running_head_or_folio(book):
    blanks = [i for i in range(len(book.pages)) if not book.body_text(i).strip()]
    assert blanks, "the book has blank pages (after the cover, between chapters)"
    for index in blanks:
        assert book.texts[index].strip() == "", f"blank page {book.labels[index]} carries text"


def test_chapter_opening_pages_have_no_running_head(book):
    for depth, title, page in book.outline():
        if depth == 0:
            assert book.running_head(page) is None, title


def test_no_section_heading_is_stranded_at_the_foot_of_a_page(book):
    sections = [item for item in _flat_outline(book.reader.outline, depth=0) if item[0] == 1]
    assert len(sections) > 20
    for _, item in sections:
        page = book.reader.get_destination_page_number(item)
        below = [run for run in book.runs[page] if item.top - 60 < run.y < item.top - 18]
        assert below, f"'{item.title}' has no text under it on page {book.labels[page]}"


def _flat_outline(items, depth):
    for item in items:
        if isinstance(item, list):
            yield from _flat_outline(item, depth + 1)
        else:
            yield depth, item


def test_table_rows_are_never_split_across_pages(book):
    rows = [
        row
        for chapter in sources().chapters
        if chapter.template == "summary.html"
        for row in chapter.data
    ]
    pages = [squash(book.body_text(i)) for i in range(len(book.pages))]
    for row in rows:
        first_words = squash(_typographic(row["summary"])).split()[:4]
        last_words = squash(_typographic(row["summary"])).split()[-3:]
        assert any(
            " ".join(first_words) in text and " ".join(last_words) in text for text in pages
        ), row


# --- content ------------------------------------------------------------------------------


def test_chapters_summary_rows_and_questions_are_in_order(book):
    text = squash(" ".join(book.body_text(i) for i in range(len(book.pages))))
    expected = [chapter.title for chapter in sources().chapters]
    chapters = {chapter.slug: chapter for chapter in sources().chapters}
    rows = [
        row["characteristic"]
        for chapter in chapters.values()
        if chapter.template == "summary.html"
        for row in chapter.data
    ]
    questions = [
        item["question"]
        for chapter in chapters.values()
        if chapter.template == "faq.html"
        for item in chapter.data
    ]
    assert len(rows) == 8 and len(questions) == 5
    numbered = [chapter for chapter in sources().chapters if chapter.number]
    assert len(numbered) == 6
    for sequence in (expected, rows, questions):
        position = 0
        for item in sequence:
            found = text.find(squash(_typographic(item)), position)
            assert found >= 0, f"'{item}' is missing or out of order"
            position = found


def _typographic(text: str) -> str:
    """The text as printed: Markdown rendered, straight quotes made curly, tags dropped."""
    rendered = markdown.markdown(text, extensions=["smarty"])
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def test_every_footnote_is_set_on_the_page_of_its_call(book):
    _each_footnote_on_the_page_of_its_call(book)


def test_every_footnote_is_set_on_the_page_of_its_call_in_the_letter_edition(letter_book):
    _each_footnote_on_the_page_of_its_call(letter_book)


def _each_footnote_on_the_page_of_its_call(pdf):
    calls = [name for name in pdf.destinations if re.fullmatch(r"note_\d+_call", name)]
    assert len(calls) >= 15
    for call in calls:
        note = call.removesuffix("_call")
        assert note in pdf.destinations, f"{note} is missing"
        assert pdf.destinations[note] == pdf.destinations[call], note


def test_metadata(book_on_each_path):
    book = book_on_each_path
    info = sources().info
    metadata = book.reader.metadata
    assert metadata.title == info.title
    assert metadata.author == info.author
    assert metadata.subject == info.subject
    assert metadata["/Keywords"] == ", ".join(info.keywords)
    assert book.reader.trailer["/Root"]["/Lang"] == "en"
    # The date in book.yml, at midnight UTC (the suite runs without the caller's SOURCE_DATE_EPOCH).
    midnight = "D:" + info.date.strftime("%Y%m%d") + "000000Z"
    assert metadata["/CreationDate"] == metadata["/ModDate"] == midnight


# --- fonts and paper ----------------------------------------------------------------------


def _fonts(reader):
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                fonts[str(descendant["/BaseFont"])] = descendant["/FontDescriptor"].get_object()
    return fonts


def test_every_font_is_embedded_and_comes_from_the_source_families(book_on_each_path):
    fonts = _fonts(book_on_each_path.reader)
    assert fonts
    for name, descriptor in fonts.items():
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), name
        family = name.split("+", 1)[-1]
        assert family.startswith(("Source-Serif-Pro", "Source-Sans-Pro")), name


def test_pages_are_a4(book):
    for index in range(len(book.pages)):
        assert book.width(index) == pytest.approx(210 * MM, abs=0.5)
        assert book.height(index) == pytest.approx(297 * MM, abs=0.5)


def test_letter_edition_has_letter_pages_and_true_contents(letter_book):
    assert letter_book.width(0) == pytest.approx(612, abs=0.5)
    assert letter_book.height(0) == pytest.approx(792, abs=0.5)
    for title, folio in contents_lines(letter_book):
        page = letter_book.index_of_label(folio)
        assert title in squash(letter_book.body_text(page))


# --- the look -----------------------------------------------------------------------------


def test_nothing_runs_into_the_outer_5mm_of_any_page(book_path):
    document = pypdfium2.PdfDocument(str(book_path))
    try:
        for index in range(len(document)):
            image = document[index].render(scale=72 / 72).to_pil().convert("L")
            strip = round(5 * 72 / 25.4)
            width, height = image.size
            for box in (
                (0, 0, width, strip),
                (0, height - strip, width, height),
                (0, 0, strip, height),
                (width - strip, 0, width, height),
            ):
                darkest = image.crop(box).getextrema()[0]
                assert darkest >= 250, f"page {index + 1} has ink in its outer 5 mm"
    finally:
        document.close()


def test_review_boxes_are_drawn_tinted(book_path, book):
    # A look at the pages that carry boxes: the review box's tint must be on them.
    document = pypdfium2.PdfDocument(str(book_path))
    try:
        pages = [i for i in range(len(book.pages)) if "KEY TERMS" in book.body_text(i)]
        assert len(pages) == len([c for c in sources().chapters if c.number])
        for index in pages:
            image = document[index].render(scale=0.5).to_pil().convert("RGB")
            colours = {colour for _, colour in image.getcolors(1 << 20)}
            assert (242, 237, 230) in colours or any(
                abs(r - 242) < 3 and abs(g - 237) < 3 and abs(b - 230) < 3 for r, g, b in colours
            )
    finally:
        document.close()
