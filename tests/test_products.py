"""The print products of one build: booklet imposition, handouts, teacher's and large print."""

from __future__ import annotations

import re

import pypdfium2
import pytest
from conftest import ROOT, copy_of_test_book
from indexpages import check_every_locator
from pdfpages import MM, BookPdf, contents_lines, squash

from bookpress.impose import padded, saddle_stitch
from bookpress.load import load_book

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}


# --- imposition, as a pure ordering ------------------------------------------------------------


@pytest.mark.parametrize("count", range(1, 65))
def test_padding_puts_blanks_only_before_the_back_cover(count):
    pages = padded(count)
    assert len(pages) % 4 == 0 and count <= len(pages) < count + 4
    assert [p for p in pages if p is not None] == list(range(count))
    if count >= 2:
        blanks = len(pages) - count
        assert pages == list(range(count - 1)) + [None] * blanks + [count - 1]


@pytest.mark.parametrize("count", range(1, 65))
def test_saddle_stitch_order_reads_in_order_when_folded(count):
    sides = saddle_stitch(count)
    pages = padded(count)
    assert len(sides) == len(pages) // 2
    halves = [half for side in sides for half in side]
    assert sorted(map(str, halves)) == sorted(map(str, pages))  # a permutation of the padded pages
    fronts, backs = sides[0::2], sides[1::2]
    # Folded and nested, sheet 1 outermost: the right halves read forwards, the left ones back.
    first_half = [
        page for front, back in zip(fronts, backs, strict=True) for page in (front[1], back[0])
    ]
    second_half = [
        page
        for front, back in reversed(list(zip(fronts, backs, strict=True)))
        for page in (back[1], front[0])
    ]
    assert first_half + second_half == pages
    assert sides[0] == (pages[-1], pages[0])  # sheet 1 front: last page | page 1
    if count > 2:
        assert sides[1] == (pages[1], pages[-2])  # its back: page 2 | last but one


# --- the built products -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def products(every_product):
    return every_product


def test_all_products_are_built(products):
    names = {path.relative_to(products).as_posix() for path in products.rglob("*.pdf")}
    assert {"book.pdf", "booklet.pdf", "teacher.pdf", "large-print.pdf"} <= names
    chapters = [c for c in load_book(ROOT).chapters if c.number]
    for chapter in chapters:
        assert f"handouts/{chapter.number:02d}-{chapter.slug}.pdf" in names
    assert f"handouts/{len(chapters) + 1:02d}-revision.pdf" in names


def test_booklet_sides_are_landscape_two_a5_pages_wide(products):
    booklet = BookPdf(products / "booklet.pdf")
    assert len(booklet.pages) % 2 == 0
    for index in range(len(booklet.pages)):
        assert booklet.width(index) == pytest.approx(2 * 148 * MM, abs=1)
        assert booklet.height(index) == pytest.approx(210 * MM, abs=1)


def test_booklet_halves_carry_the_pages_saddle_stitching_puts_there(products):
    # Each page is drawn on its sheet as a form XObject, which pypdf reports unplaced:
    # pdfium, a full renderer, says what stands in each half of the sheet.
    booklet = pypdfium2.PdfDocument(str(products / "booklet.pdf"))
    count = 2 * len(booklet)
    order = [
        half for side in saddle_stitch(count) for half in side
    ]  # reading position of each half
    first_body = None
    checked = 0
    for side in range(len(booklet)):
        page = booklet[side]
        text, half_width = page.get_textpage(), page.get_width() / 2
        for half in (0, 1):
            band = text.get_text_bounded(
                left=half * half_width, bottom=0, right=(half + 1) * half_width, top=20 * MM
            )
            foot = [
                word
                for word in band.split()
                if (word.isdigit() and int(word) <= count) or word in ROMAN
            ]
            position = order[2 * side + half]
            if not foot:
                continue
            folio = foot[-1]  # the folio stands below any footnote at the page foot
            if folio in ROMAN:
                assert position == ROMAN[folio] - 1, (
                    f"side {side + 1}: folio {folio} at position {position}"
                )
            else:
                first_body = first_body if first_body is not None else position - int(folio) + 1
                assert position == first_body + int(folio) - 1, (
                    f"side {side + 1}: folio {folio} out of order"
                )
            checked += 1
    assert checked > count / 2
    cover_page = booklet[0]
    back_cover = cover_page.get_textpage().get_text_bounded(right=cover_page.get_width() / 2)
    assert load_book(ROOT).info.title in back_cover


def test_handouts_cover_every_chapter_page_once_with_the_books_numbers(products):
    book = BookPdf(products / "book.pdf")
    info = load_book(ROOT).info
    chapters = {c.slug: c for c in load_book(ROOT).chapters}
    seen = []
    for path in sorted((products / "handouts").glob("*.pdf")):
        handout = BookPdf(path)
        number = int(path.name[:2])
        title = handout.reader.metadata.title
        assert title.startswith(f"Handout {number} \u2014 ") and title.endswith(
            f" \u00b7 {info.title}"
        )
        first_bookmark = next(t for depth, t, page in handout.outline() if depth == 0)
        assert squash(first_bookmark) in squash(handout.body_text(0)), (
            "a handout starts with its chapter"
        )
        for _depth, text, page in handout.outline():
            assert squash(text) in squash(handout.body_text(page))
        for index, label in enumerate(handout.labels):
            assert handout.folio(index) in (label, None)
            assert handout.body_text(index).strip(), "no blank page in a handout"
            page = book.index_of_label(label)
            assert squash(handout.body_text(index)) == squash(book.body_text(page))
            seen.append(label)
        slug = path.stem[3:]
        if slug in chapters:
            assert squash(chapters[slug].title) in squash(handout.body_text(0))
    assert len(seen) == len(set(seen)), "a page is in two handouts"
    numbered = [
        book.labels[page]
        for depth, title, page in book.outline()
        if depth == 0 and any(c.title == title and c.number for c in chapters.values())
    ]
    for first in numbered:
        assert first in seen


def test_teacher_notes_are_only_in_the_teachers_edition(products):
    notes = [
        line
        for chapter in load_book(ROOT).chapters
        for line in chapter.body.splitlines()
        if line.startswith("**Question 1.**")
    ]
    assert len(notes) == 5
    phrases = [squash(re.sub(r"\*\*Question 1\.\*\*\s*", "", line))[:60] for line in notes]
    teacher = (
        squash(" ".join(BookPdf(products / "teacher.pdf").texts))
        .replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    for phrase in phrases:
        assert phrase.replace("\u2019", "'") in teacher or phrase[:30] in teacher
    # The student editions; the handouts are joined from book.pdf's own parts.
    student = [products / "book.pdf", products / "booklet.pdf", products / "large-print.pdf"]
    for path in student:
        text = " ".join(BookPdf(path).texts)
        assert "Teacher" not in text and "Suggested timing" not in text, path.name


def _sizes(pdf: BookPdf, index: int):
    """(font size in points, text) of the runs in the page's body band."""
    top = pdf.height(index) - 20 * MM
    return [(run.size, run.text.strip()) for run in pdf.runs[index] if 20 * MM < run.y < top]


def _figure_texts() -> set[str]:
    """The words drawn inside the figures (scaled with their drawing, not set as text)."""
    texts = set()
    for chapter in load_book(ROOT).chapters:
        for _, figure in chapter.figures:
            texts |= {event.label for event in figure.events} | {
                event.date for event in figure.events
            }
            texts |= (
                {bar.label for bar in figure.bars}
                | {f"{bar.value:,}" for bar in figure.bars}
                | {figure.unit}
            )
            if figure.map:
                texts |= {m.label.text for m in figure.map.markers if m.label}
                texts |= {entry.label.text for entry in figure.map.key}
                if figure.map.scale_bar:
                    texts.add(figure.map.scale_bar.label.text)
    return texts


def test_large_print_body_text_is_at_least_16pt(products):
    large = BookPdf(products / "large-print.pdf")
    drawn = _figure_texts()
    assert drawn
    words = [
        (size, text)
        for index in range(len(large.pages))
        for size, text in _sizes(large, index)
        if len(text) >= 3 and not re.fullmatch(r"[\d,]+", text) and text not in drawn
    ]
    assert len(words) > 1000
    too_small = [(round(size, 1), text) for size, text in words if size < 15.95]
    assert not too_small, too_small[:5]
    regular = BookPdf(products / "book.pdf")
    body = sorted(
        size for index in range(8, 12) for size, text in _sizes(regular, index) if len(text) > 20
    )
    assert body[len(body) // 2] < 12, "the reading edition's text is smaller"


def test_large_print_is_not_hyphenated(products):
    large = BookPdf(products / "large-print.pdf")
    text = "\n".join(large.texts)
    sources = " ".join(path.read_text() for path in (ROOT / "chapters").iterdir())
    for first, second in re.findall(r"(\w+)-\n(\w+)", text):
        # A line may end at the hyphen of a compound the source writes with one.
        assert f"{first}-{second}" in sources, f"'{first}-{second}' is hyphenated at a line's end"
    assert "hyphens: manual" in (ROOT / "layout" / "large-print.css").read_text()


@pytest.mark.parametrize("name", ["teacher.pdf", "large-print.pdf"])
def test_each_edition_has_true_contents_and_index(products, name):
    edition = BookPdf(products / name)
    lines = contents_lines(edition)
    assert len(lines) > 20
    for title, folio in lines:
        page = edition.index_of_label(folio)
        assert title in squash(edition.body_text(page)), f"{name}: '{title}' is not on page {folio}"
    check_every_locator(edition, columns=1 if name == "large-print.pdf" else 2)


# --- a new product: one entry in the table and its stylesheet ---------------------------------

SLIDES_CSS = """/* Slides to project: landscape pages, large type. */
@page { size: A5 landscape; }
body { font-size: 16pt; }
"""


def test_a_product_is_one_entry_in_the_table_and_its_stylesheet(tmp_path, monkeypatch):
    from bookpress.cli import main
    from bookpress.products import PRODUCTS, Product

    root = copy_of_test_book(tmp_path, "minimal")
    (root / "layout" / "slides.css").write_text(SLIDES_CSS)
    slides = Product(
        "slides to project: build/slides.pdf", "slides.pdf", "pdf", css=("slides.css",)
    )
    monkeypatch.setitem(PRODUCTS, "slides", slides)
    assert main(["--root", str(root), "--product", "slides", "--product", "book"]) == 0
    pdf, book = BookPdf(root / "build" / "slides.pdf"), BookPdf(root / "build" / "book.pdf")
    assert {
        (round(pdf.width(i) / MM), round(pdf.height(i) / MM)) for i in range(len(pdf.pages))
    } == {(210, 148)}
    assert round(book.width(0) / MM) == 210 and round(book.height(0) / MM) == 297
    assert "The First Chapter" in squash(" ".join(pdf.texts))
    assert len(pdf.pages) > len(book.pages)  # larger type on smaller pages
