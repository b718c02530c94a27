"""Pictures that fit the page in every product, and the HTML boxes of course websites.

The chapters are tests/books/website/chapters/05-pictures.md and 06-boxes.md, built on their
own (the book's other chapters are about links and front matter) in a temporary folder,
their pictures drawn here with Pillow: one far wider than any page (4000 × 300 pixels), one
far taller (300 × 4000) and, in a chapter added here, one smaller than the column (40 × 30).
The book's assets/ holds the first two as drawn here, for the tests that build it whole.

The rule: a picture prints at its own size, a pixel to 1/96 inch (a CSS px, as a screen
shows it), and never larger; smaller where the column is narrower or the page (nine tenths
of its height) lower. Below 150 dpi at the size it prints, it is a warning.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import markdown
import pypdfium2
import pypdfium2.raw as pdfium
import pytest
from conftest import BOOKS, ROOT, build_quietly
from pdfpages import MM
from PIL import Image, ImageDraw
from pypdf import PdfReader

from bookpress.cli import main
from bookpress.errors import LOGGER
from bookpress.extensions import AlertExtension, HtmlBoxExtension
from bookpress.load import load_book
from bookpress.model import Edition
from bookpress.render import MARKDOWN_EXTENSIONS, PICTURE_HEIGHT, TEXT_BLOCKS_MM, render_chapters

CHAPTERS = ("05-pictures.md", "06-boxes.md")
SMALL_CHAPTER = "07-small.md"
SMALL_LINE = 9  # of SMALL_CHAPTER: the line that names the picture
PICTURES = {"wide.png": (4000, 300), "tall.png": (300, 4000), "small.png": (40, 30)}
#: The margins of each page size, in mm (top, bottom, inner, outer), as layout/ sets them.
MARGINS = {
    ("a4", False): (22, 24, 24, 34),
    ("letter", False): (22, 24, 24, 34),
    ("a5", False): (16, 19, 16, 20),
    ("half-letter", False): (16, 19, 16, 20),
    ("a4", True): (20, 24, 22, 22),
    ("letter", True): (20, 24, 22, 22),
}
HALF = {"a4": "a5", "letter": "half-letter"}


def draw_picture(path: Path, width: int, height: int) -> None:
    """A picture inked to its very edges, so that any part of it beyond a margin shows."""
    image = Image.new("RGB", (width, height), (47, 79, 111))
    draw = ImageDraw.Draw(image)
    edge = max(1, min(width, height) // 12)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(20, 20, 20), width=edge)
    for x in range(-height, width, max(1, max(width, height) // 16)):
        draw.line([x, 0, x + height, height], fill=(242, 237, 230), width=max(1, edge // 2))
    image.save(path, optimize=True)


def website_copy(folder: Path, small: bool = True) -> Path:
    """The website book's picture and box chapters, with the real layout, in folder.

    With small, a chapter with the small picture too, which warns of its resolution.
    """
    root = folder / "website"
    (root / "chapters").mkdir(parents=True)
    source = BOOKS / "website" / "chapters"
    for name in CHAPTERS:
        shutil.copy(source / name, root / "chapters" / name)
    listed = [*CHAPTERS, SMALL_CHAPTER] if small else list(CHAPTERS)
    listing = "chapters:\n" + "".join(f"  - {name}\n" for name in listed)
    book_yml = re.sub(r"(?ms)^chapters:.*", listing, (source / "book.yml").read_text())
    (root / "chapters" / "book.yml").write_text(book_yml)
    if small:
        (root / "chapters" / SMALL_CHAPTER).write_text(
            "---\ntitle: A Small Picture\n---\n\n"
            "A button of the website, as small as it was saved:\n\n## The button\n\n"
            "![The website's menu button, three lines](../assets/small.png)\n"
        )
    (root / "assets").mkdir()
    for name, (width, height) in PICTURES.items():
        draw_picture(root / "assets" / name, width, height)
        # A picture alone in its paragraph is a figure, which needs its credit
        # (test_picture_figures.py).
        (root / "assets" / name).with_suffix(".yml").write_text(
            "creator: Test Author\nsource: The course website\nlicence: CC BY 4.0\n"
        )
    shutil.copytree(ROOT / "layout", root / "layout")
    return root


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.errors = []

    def emit(self, record):
        self.errors.append(record.book_error)


def build(root: Path, *arguments: str) -> list[str]:
    """Build in one process (one product, or the book with its handouts); the warnings."""
    collector = _Warnings()
    LOGGER.addHandler(collector)
    try:
        command = ["--root", str(root), "--build-dir", str(root / "build"), "--force", *arguments]
        assert main(command) == 0
    finally:
        LOGGER.removeHandler(collector)
    return [error.format(root) for error in collector.errors]


def small_picture_warning(page: str) -> str:
    return (
        f"chapters/{SMALL_CHAPTER}:{SMALL_LINE}: the picture '../assets/small.png' "
        f"(40 × 30 pixels) prints 11 mm wide on {page}, at 96 dpi"
    )


#: Each product as (the command line, the edition its pages are laid out in, where the
#: small picture's warning says it prints).
PRODUCTS = {
    "A4": (("--product", "book"), Edition("a4"), "A4"),
    "Letter": (("--product", "book", "--paper", "letter"), Edition("letter"), "US Letter"),
    "booklet": (("--product", "booklet"), Edition("a5"), "A5"),
    "half-letter booklet": (
        ("--product", "booklet", "--paper", "letter"),
        Edition("half-letter"),
        "half-letter",
    ),
    "large print": (
        ("--product", "large-print"),
        Edition("a4", large_print=True),
        "A4 in large print",
    ),
    "large print on Letter": (
        ("--product", "large-print", "--paper", "letter"),
        Edition("letter", large_print=True),
        "US Letter in large print",
    ),
    "handouts": (("--product", "handouts"), Edition("a4"), "A4"),
}


@pytest.fixture(scope="module", params=list(PRODUCTS))
def product(request, tmp_path_factory):
    """(the PDFs the product made, its edition, the warnings of its build)."""
    arguments, edition, page = PRODUCTS[request.param]
    root = website_copy(tmp_path_factory.mktemp(request.param.replace(" ", "-")))
    warnings = build(root, *arguments)
    return sorted((root / "build").rglob("*.pdf")), edition, warnings, page


# --- pictures: inside the text block, never larger than their pixels -------------------------


def test_no_ink_in_the_outer_5mm_of_any_page(product):
    pdfs, edition, _, _ = product
    for pdf in pdfs:
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            for index in range(len(document)):
                for half, image in enumerate(_page_images(document[index], edition)):
                    width, height = image.size
                    strip = round(5 * MM)
                    for box in (
                        (0, 0, width, strip),
                        (0, height - strip, width, height),
                        (0, 0, strip, height),
                        (width - strip, 0, width, height),
                    ):
                        darkest = image.crop(box).getextrema()[0]
                        where = f"{pdf.name} page {index + 1} (half {half})"
                        assert darkest >= 250, f"{where} has ink in its outer 5 mm"
        finally:
            document.close()


def _page_images(page, edition: Edition):
    """The page, rendered at 72 dpi in grey: each half of a booklet's sheet on its own."""
    image = page.render(scale=1).to_pil().convert("L")
    if edition.paper not in HALF.values():
        return [image]
    width, height = image.size
    return [
        image.crop((0, 0, width // 2, height)),
        image.crop((width - width // 2, 0, width, height)),
    ]


def test_every_picture_stands_inside_the_text_block(product):
    """Within the margins of its page: on a right-hand page (odd folio) the outer margin is
    the right one, on a left-hand page the left one; an imposed booklet page has no folio
    of its own in the PDF, and is held to its narrower margin on both sides."""
    pdfs, edition, _, _ = product
    placed = [placement for pdf in pdfs for placement in picture_placements(pdf, edition)]
    assert {placement.pixels for placement in placed} == set(PICTURES.values())
    top, bottom, inner, outer = MARGINS[edition.paper, edition.large_print]
    for placement in placed:
        width, height = placement.page
        left, low, right, high = placement.bounds
        first, last = min(inner, outer), width - min(inner, outer)
        if placement.folio is not None:
            first, last = (inner, width - outer) if placement.folio % 2 else (outer, width - inner)
        assert high <= height - top + 0.2 and low >= bottom - 0.2, placement
        assert left >= first - 0.2 and right <= last + 0.2, placement


def test_pictures_print_at_their_own_size_at_most(product):
    """As wide as the column, as tall as the page allows, or a pixel to 1/96 inch; as
    bookpress/render.py computes it for the resolution warning."""
    pdfs, edition, _, _ = product
    column, page_height = TEXT_BLOCKS_MM[edition.paper, edition.large_print]
    for placement in [placement for pdf in pdfs for placement in picture_placements(pdf, edition)]:
        left, low, right, high = placement.bounds
        width, height = right - left, high - low
        assert width / height == pytest.approx(placement.pixels[0] / placement.pixels[1], rel=0.01)
        if placement.pixels == PICTURES["wide.png"] and width > column - 5:  # not the one in a box
            assert width == pytest.approx(column, abs=0.2)
        elif placement.pixels == PICTURES["tall.png"]:
            assert height == pytest.approx(page_height * PICTURE_HEIGHT, abs=0.2)
        elif placement.pixels == PICTURES["small.png"]:
            assert (width, height) == pytest.approx((40 / 96 * 25.4, 30 / 96 * 25.4), abs=0.05)


@dataclass(frozen=True)
class Placed:
    """A picture as a PDF prints it; lengths in mm, from the page's lower left corner."""

    pdf: str
    page: tuple[float, float]  # (width, height); on a booklet's sheet, of one half
    folio: int | None  # the page's number, where the PDF labels it with one
    pixels: tuple[int, int]
    bounds: tuple[float, float, float, float]  # left, bottom, right, top


def picture_placements(pdf: Path, edition: Edition) -> list[Placed]:
    """Every picture of the PDF, where it is printed."""
    reader = PdfReader(pdf)
    labelled = "/PageLabels" in reader.trailer["/Root"]  # pypdf numbers the pages of one without
    labels = list(reader.page_labels) if labelled else [""] * len(reader.pages)
    document = pypdfium2.PdfDocument(str(pdf))
    placed = []
    try:
        for index in range(len(document)):
            page = document[index]
            width, height = (value / MM for value in page.get_size())
            if edition.paper in HALF.values():
                width /= 2  # an imposed page is drawn as a form: its pictures' places are in it
            folio = int(labels[index]) if labels[index].isdigit() else None
            for picture in page.get_objects(filter=[pdfium.FPDF_PAGEOBJ_IMAGE], max_depth=3):
                placed.append(
                    Placed(
                        pdf.name,
                        (width, height),
                        folio,
                        picture.get_px_size(),
                        tuple(value / MM for value in picture.get_bounds()),
                    )
                )
    finally:
        document.close()
    return placed


def test_a_picture_below_150_dpi_is_one_warning_naming_its_file_and_line(product):
    _, _, warnings, page = product
    assert [warning.split("\n")[0] for warning in warnings] == [
        small_picture_warning(page) + ": it will look soft (print needs about 150)"
    ]
    assert "how to fix: a copy with more pixels prints larger and sharper" in warnings[0]


def test_the_pictures_chapters_warn_of_nothing(tmp_path):
    root = website_copy(tmp_path, small=False)
    assert build_quietly("--root", str(root), "--build-dir", str(tmp_path / "build")) == 0
    assert main(["--root", str(root), "--check"]) == 0


# --- HTML boxes and alerts --------------------------------------------------------------------


@pytest.fixture(scope="module")
def boxes_text(tmp_path_factory) -> list[str]:
    root = website_copy(tmp_path_factory.mktemp("boxes"), small=False)
    assert build_quietly("--root", str(root), "--build-dir", str(root / "build")) == 0
    return [page.extract_text() for page in PdfReader(root / "build" / "book.pdf").pages]


def test_no_markdown_prints_as_typed(boxes_text):
    text = "\n".join(boxes_text)
    for typed in ("**", "](", "[!", "markdown=", "<aside", "<summary", "::: "):
        assert typed not in text


@pytest.mark.parametrize(
    "heading, text",
    [
        ("DID YOU KNOW?", "with Markdown inside"),  # <aside markdown="1">, its ### heading
        ("SHOW THE ANSWER", "the answer prints in full"),  # <details>, its <summary>
        ("NOTE", "even when skimming"),
        ("TIP", "doing things better"),
        ("IMPORTANT", "need to reach their goal"),
        ("WARNING", "attention at once"),
        ("CAUTION", "the risks of an action"),
    ],
)
def test_each_box_prints_with_its_heading(boxes_text, heading, text):
    pages = [page for page in boxes_text if text in " ".join(page.split())]
    assert len(pages) == 1
    lines = [line.strip() for line in pages[0].splitlines()]
    assert heading in lines


def test_a_figure_keeps_its_caption_and_a_quotation_stays_one(boxes_text):
    text = " ".join(" ".join(boxes_text).split())
    assert "The timeline page of the course website, with its caption in italics." in text
    caution = text.index("the risks of an action")
    assert text.index("An ordinary quotation stays a quotation") > caution


def convert(source: str) -> str:
    extensions = [*MARKDOWN_EXTENSIONS, HtmlBoxExtension(), AlertExtension()]
    return markdown.markdown(source, extensions=extensions)


@pytest.mark.parametrize(
    "source, html",
    [
        (
            '<aside markdown="1">\n### Did you know?\n\nText in **bold**.\n</aside>',
            "<aside>\n<h3>Did you know?</h3>\n<p>Text in <strong>bold</strong>.</p>\n</aside>",
        ),
        (
            "<aside>\nMarkdown in an aside that *does not say so*.\n</aside>",
            "<aside>\n<p>Markdown in an aside that <em>does not say so</em>.</p>\n</aside>",
        ),
        (
            '<aside markdown="0">\nAs *typed*.\n</aside>',
            '<aside markdown="0">\nAs *typed*.\n</aside>',
        ),
        (
            "<details>\n<summary>The *answer*</summary>\n\nIt is **this**.\n</details>",
            "<details>\n<summary>The <em>answer</em></summary>\n<p>It is "
            "<strong>this</strong>.</p>\n"
            "</details>",
        ),
        (
            '<figure>\n<img src="../assets/a.png" alt="A map">\n<figcaption>A *map*.</figcaption>\n'
            "</figure>",
            '<figure>\n<p><img src="../assets/a.png" alt="A map"></p>\n'
            "<figcaption>A <em>map</em>.</figcaption>\n</figure>",
        ),
        (
            "> [!NOTE]\n> Read *this*.",
            '<div class="alert alert-note">\n<p class="alert-heading">Note</p>\n'
            "<p>Read <em>this</em>.</p>\n</div>",
        ),
        (
            "> [!caution]\n>\n> One.\n>\n> - two",
            '<div class="alert alert-caution">\n<p '
            'class="alert-heading">Caution</p>\n<p>One.</p>\n<ul>\n'
            "<li>two</li>\n</ul>\n</div>",
        ),
        (
            "> [!TIP]\n> A tip.\n\n> A quotation after it.",
            '<div class="alert alert-tip">\n<p class="alert-heading">Tip</p>\n<p>A '
            "tip.</p>\n</div>\n"
            "<blockquote>\n<p>A quotation after it.</p>\n</blockquote>",
        ),
        (
            "> A quotation.\n\n> [!WARNING]\n> A warning after it.",
            "<blockquote>\n<p>A quotation.</p>\n</blockquote>\n"
            '<div class="alert alert-warning">\n<p class="alert-heading">Warning</p>\n'
            "<p>A warning after it.</p>\n</div>",
        ),
        (
            "> [!DANGER]\n> Not a kind GitHub knows.",
            "<blockquote>\n<p>[!DANGER]\nNot a kind GitHub knows.</p>\n</blockquote>",
        ),
    ],
)
def test_html_boxes_and_alerts(source, html):
    assert convert(source) == html


# --- what the allow-list leaves out, and pictures written as HTML ------------------------------

DROPPED = """Text with <b>bold</b> and <span style="color: red">red</span> words.

<section>
A section of the website.
</section>

A paragraph with a style.
{: style="margin-left: 4em" }

<img src="../assets/dot.png" alt="A dot" width="300">

<aside class="callout">
An aside with a class no stylesheet knows.
</aside>

<noscript><p>Turn on scripts.</p></noscript>

<details open markdown="1">
<summary>Kept</summary>

Everything here is kept.
</details>
"""


LOOK = "the book's look comes from layout/*.css"


def test_everything_the_allow_list_leaves_out_is_a_warning_with_file_and_line(project, caplog):
    draw_picture(project / "assets" / "dot.png", 200, 200)
    (project / "chapters" / "02-second.md").write_text("---\ntitle: Two\n---\n\n" + DROPPED)
    book = load_book(project)
    with caplog.at_level(logging.WARNING, logger="bookpress"):
        render_chapters(book)
    where = "chapters/02-second.md"
    found = [record.book_error.format(project).split("\n")[0] for record in caplog.records]
    assert found == [
        f"{where}:5: <b> is left out of the book: what it holds prints as ordinary text",
        f'{where}:5: style="color: red" on <span> is left out: {LOOK}',
        f"{where}:7: <section> is left out of the book: what it holds prints as ordinary text",
        f'{where}:12: style="margin-left: 4em" on <p> is left out: {LOOK}',
        f'{where}:14: width="300" on <img> is left out: a picture prints at its own size '
        "(a pixel is 1/96 inch), never wider than the column",
        f"{where}:20: <noscript> is left out of the book, with everything in it",
        f"{where}:16: the class 'callout' (on <aside>) is styled by no rule of layout/: "
        "it changes nothing in print",
        # dot.png: 200 pixels, printed at its own size, 53 mm wide: 96 dpi.
        f"{where}:14: the picture '../assets/dot.png' (200 × 200 pixels) prints 53 mm wide on A4, "
        "at 96 dpi: it will look soft (print needs about 150)",
    ]


def test_the_books_own_markup_passes_without_a_word(caplog):
    with caplog.at_level(logging.WARNING, logger="bookpress"):
        for edition in (Edition(), Edition(teacher=True)):
            render_chapters(load_book(ROOT), edition)
    assert caplog.records == []


@pytest.mark.parametrize(
    "tag, message",
    [
        ('<img src="../assets/dot.png">', "the image '../assets/dot.png' has no alt text"),
        (
            '<p>A dot: <img src="../assets/dot.png" alt=""></p>',
            "the image '../assets/dot.png' has no alt text",
        ),
        (
            '<img src="../assets/dott.png" alt="A dot">',
            "the image '../assets/dott.png' does not exist",
        ),
    ],
)
def test_a_picture_written_as_html_is_checked_like_a_markdown_one(project, capsys, tag, message):
    draw_picture(project / "assets" / "dot.png", 200, 200)
    (project / "chapters" / "02-second.md").write_text(f"---\ntitle: Two\n---\n\nText.\n\n{tag}\n")
    assert main(["--root", str(project), "--check"]) == 1
    assert f"chapters/02-second.md:7: {message}" in capsys.readouterr().err
