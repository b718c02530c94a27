"""Links made for a website, in a book: to other chapters with their pages, to the web with
an address a reader can type, and never to a file of the machine that built the book."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import markdown
import pypdfium2
import pytest
from conftest import BOOKS, PREVIOUS_PDF, ROOT, build_quietly, fails, write
from pdfpages import BookPdf, squash
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

from bookpress.cli import main
from bookpress.extensions import (
    BookLinks,
    FencedBlockExtension,
    HeadingIdExtension,
    IdRegistry,
    LinkExtension,
    PageFootnoteExtension,
    printed_url,
    same_address,
)
from bookpress.model import ChapterSource
from bookpress.render import MARKDOWN_EXTENSIONS

MM = 72 / 25.4
#: What a build of the website book warns of, on purpose (tests/books/website/chapters/book.yml).
MISSING = "99-missing.md"
LINK_CHAPTERS = ("01-links.md", "02-web.md", "03-reference.md")
#: (the words of a link, words that stand under the heading it leads to, that heading's id)
CHAPTER_LINKS = [
    ("the chapter on web links", "Links to the Web", "web"),
    ("the section on long addresses", "Long addresses", "long-addresses"),
    ("the Jekyll form", "Links to the Web", "web"),
    ("the folder form", "Links to the Web", "web"),
    ("the mdBook form", "Links to the Web", "web"),
    ("the heading on addresses read aloud", "Addresses read aloud", "addresses-read-aloud"),
    (
        "the reference chapter\u2019s reading list",
        "A heading of the same name as one in the first",
        "further-reading-2",
    ),
    ("the section on Trotsky in Mexico", "Trotsky in México", "trotsky-in-mexico"),
    ("the reference chapter", "A Chapter Linked To", "reference"),
    ("the first chapter", "Links Between Chapters", "links"),
    (
        "the first chapter\u2019s section on forms",
        "Every way a site names a page",
        "every-way-a-site-names-a-page",
    ),
    ("the section on short addresses", "Short addresses", "short-addresses"),  # in its chapter
]
LONG_URLS = [
    "https://archive.example.org/collections/soviet-history/documents/1937/the-great-terror/"
    "reports/regional-quotas/index.html?page=2&lang=en&view=full",
    "https://archive.example.org/collections/soviet-history/documents/1938/show-trials/"
    "transcripts/the-trial-of-the-twenty-one.html",
]
INVISIBLE = str.maketrans("", "", "\u200b\u2060")  # the breaks a printed address carries


def website_copy(folder: Path, book_yml=None) -> Path:
    """tests/books/website with the real layout, in folder; book_yml edits its book.yml."""
    root = folder / "project"
    shutil.copytree(BOOKS / "website", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    if book_yml:
        path = root / "chapters" / "book.yml"
        path.write_text(book_yml(path.read_text()))
    return root


def links_only(root: Path, missing: bool = False) -> Path:
    """The book's chapters about links alone; without their link to a chapter the book lacks
    (unless missing), it builds without a warning: other chapters warn on purpose."""
    path = root / "chapters" / "01-links.md"
    if not missing:
        path.write_text(
            path.read_text().replace(f"[a chapter left out]({MISSING})", "a chapter left out")
        )
    for other in sorted((root / "chapters").glob("*.md")):
        if other.name not in LINK_CHAPTERS:
            other.unlink()
    book_yml = root / "chapters" / "book.yml"
    listed = "".join(f"  - {name}\n" for name in LINK_CHAPTERS)
    book_yml.write_text(
        re.sub(r"(?ms)^chapters:\n(?:  - .*?\n)+", f"chapters:\n{listed}", book_yml.read_text())
    )
    return root


@pytest.fixture(scope="module")
def every_product(tmp_path_factory):
    """Every product of the website book, its link to a missing chapter included."""
    folder = tmp_path_factory.mktemp("links-all")
    root = website_copy(folder)
    build = folder / "build"
    assert main(["--root", str(root), "--build-dir", str(build), "--all", "--force"]) == 0
    return folder, build


@pytest.fixture(scope="module")
def quiet_book(tmp_path_factory):
    """The reading edition and the large-print one, built without a warning."""
    folder = tmp_path_factory.mktemp("links-quiet")
    root = links_only(website_copy(folder))
    build = folder / "build"
    assert (
        build_quietly(
            "--root",
            str(root),
            "--build-dir",
            str(build),
            "--force",
            "--product",
            "book",
            "--product",
            "large-print",
        )
        == 0
    )
    return build


def plain_text(pdf: BookPdf) -> str:
    """The text of the chapters' pages (without running heads and folios), as one line, and
    without the breaks of printed addresses."""
    first = next(index for index, label in enumerate(pdf.labels) if label.isdigit())
    pages = range(first, len(pdf.pages))
    return squash(" ".join(pdf.body_text(page) for page in pages)).translate(INVISIBLE)


# --- links between chapters ---------------------------------------------------------------------


@pytest.mark.parametrize("edition", ["book.pdf", "large-print.pdf"])
def test_a_link_to_another_chapter_prints_the_page_of_its_heading(quiet_book, edition):
    pdf = BookPdf(quiet_book / edition)
    text = plain_text(pdf)
    for words, under_heading, _ in CHAPTER_LINKS:
        printed = re.findall(re.escape(words) + r" \(page (\d+)\)", text)
        assert printed, f"'{words}' is not printed with a page"
        for folio in printed:
            page = pdf.index_of_label(folio)
            assert under_heading in squash(pdf.texts[page]), f"'{words}' names page {folio}"
    assert "(page ?)" not in text


def test_a_link_to_another_chapter_leads_to_its_heading_in_the_pdf(quiet_book):
    pdf = BookPdf(quiet_book / "book.pdf")
    text = [squash(page).translate(INVISIBLE) for page in pdf.texts]
    for words, under_heading, heading_id in CHAPTER_LINKS:
        page = next(i for i, page_text in enumerate(text) if f"{words} (page" in page_text)
        assert heading_id in _destinations_linked_from(pdf.pages[page]), words
        assert under_heading in text[pdf.destinations[heading_id]], heading_id


def _destinations_linked_from(page) -> set[str]:
    annotations = [annotation.get_object() for annotation in page.get("/Annots") or ()]
    return {str(annotation["/Dest"]) for annotation in annotations if "/Dest" in annotation}


@pytest.mark.parametrize(
    "href",
    [
        "02-second.md",
        "02-second.md#a-section",
        "../02-second/",
        "02-second/",
        "second.html",
        "02-second",
        "./02-second/index.html",
        "../second/#a-section",
    ],
)
def test_every_way_a_site_names_a_chapter_is_a_link_to_it(href):
    links = BookLinks([_chapter("01-first.md", "first"), _chapter("02-second.md", "second")])
    html = _converted(f"See [it]({href}).", links)
    placeholder = re.fullmatch(r'<p>See <a class="page-link" href="#([^"]+)">it</a>.</p>', html)[1]
    link = links.to_chapters[placeholder]
    assert (link.target.name, link.fragment) == ("02-second.md", href.partition("#")[2])
    assert not links.outside


def _chapter(name: str, slug: str) -> ChapterSource:
    return ChapterSource(
        path=Path("chapters") / name,
        slug=slug,
        title=slug,
        running_head=slug,
        number=1,
        body="",
        body_line=4,
    )


def _converted(text: str, links: BookLinks, registry: IdRegistry | None = None) -> str:
    registry = registry or IdRegistry()
    converter = markdown.Markdown(
        extensions=[
            *MARKDOWN_EXTENSIONS,
            FencedBlockExtension(),
            PageFootnoteExtension(registry),
            LinkExtension(registry, links),
            HeadingIdExtension(registry),
        ]
    )
    return converter.convert(text)


# --- links out of the book ------------------------------------------------------------------------

OUTSIDE = [  # (case, the link as written)
    ("a chapter that is not in the book", "99-missing.md"),
    ("a file beside the chapters", "../assets/notes.pdf"),
    ("a page of a site", "/somewhere"),
    ("a file of the machine", "file:///etc/passwd"),
    ("a file in a folder", "notes/02-second.md"),
]


@pytest.mark.parametrize("case, href", OUTSIDE, ids=[case for case, _ in OUTSIDE])
def test_a_link_out_of_the_book_is_a_warning_with_its_line_and_plain_text(
    project, capsys, case, href
):
    write(project, "01-first.md", f"---\ntitle: One\n---\n\nText.\n\nSee [the notes]({href}).\n")
    assert main(["--root", str(project), "--check"]) == 0
    err = capsys.readouterr().err
    assert f"chapters/01-first.md:7: the link to '{href}' leads out of the book" in err
    assert "how to fix:" in err
    links = BookLinks([_chapter("01-first.md", "first"), _chapter("02-second.md", "second")])
    assert _converted(f"See [the notes]({href}).", links) == "<p>See <span>the notes</span>.</p>"


def test_a_raw_html_link_to_a_file_is_refused(broken, capsys):
    # Raw HTML is not Markdown: it cannot be made plain text, so the build refuses it.
    link = '<a href="../assets/notes.pdf">notes</a>'
    write(broken, "01-first.md", f"---\ntitle: One\n---\n\nSee {link}.\n")
    err = fails(broken, capsys)
    assert "chapters/01-first.md:5: the link '../assets/notes.pdf' points outside the book" in err


@pytest.mark.parametrize(
    "href", ["https://example.org/a", "http://example.org", "mailto:a@b.org", "#a-heading"]
)
def test_links_to_the_web_and_to_headings_stay(href):
    links = BookLinks(web_links="none")
    assert f'href="{href}"' in _converted(f"See [it]({href}).", links)
    assert not links.outside and not links.to_chapters


def test_an_address_keeps_what_would_read_as_an_entity():
    html = _converted("See [it](https://example.org/?a=1&not=2).", BookLinks(web_links="after"))
    assert html.count('href="https://example.org/?a=1&amp;not=2"') == 2 and "\u00ac" not in html


def test_an_e_mail_address_is_printed_without_mailto():
    html = _converted(
        "Write to <editors@example.org> or [us](mailto:us@example.org).",
        BookLinks(web_links="after"),
    )
    assert 'href="mailto:editors@example.org">editors@example.org</a>' in html.replace(
        ' class="url"', ""
    )
    assert '(<a class="url" href="mailto:us@example.org">us@example.org</a>)' in html


def test_a_link_out_of_the_book_fails_the_build_under_strict(broken, capsys):
    write(broken, "01-first.md", "---\ntitle: One\n---\n\nSee [the notes](notes.md).\n")
    assert main(["--root", str(broken), "--strict"]) == 1
    assert (broken / "build" / "book.pdf").read_bytes() == PREVIOUS_PDF
    err = capsys.readouterr().err
    assert "chapters/01-first.md:5: the link to 'notes.md' leads out of the book" in err
    assert "build/ still holds the last good PDF" in err


@pytest.mark.parametrize(
    "value, hint",
    [
        ("footnotes", "did you mean 'footnote'?"),
        ("margin", "write web_links: footnote, after or none"),
    ],
)
def test_a_wrong_web_links_value_names_its_line_with_a_hint(broken, capsys, value, hint):
    text = (broken / "chapters" / "book.yml").read_text() + f"web_links: {value}\n"
    write(broken, "book.yml", text)
    err = fails(broken, capsys)
    line = text.count("\n")
    assert f"chapters/book.yml:{line}: '{value}' is not a way to print web links" in err
    assert hint in err


def test_a_missing_section_warns_and_leads_to_the_chapter(project, capsys):
    write(project, "01-first.md", "---\ntitle: One\n---\n\nSee [it](02-second.md#a-sectoin).\n")
    assert main(["--root", str(project), "--check"]) == 0
    err = capsys.readouterr().err
    assert "chapters/01-first.md:5: '02-second.md' has no heading '#a-sectoin'" in err
    assert "did you mean 'a-section'?" in err


def test_the_website_book_warns_of_its_missing_chapter_with_file_and_line(tmp_path, capsys):
    root = links_only(website_copy(tmp_path), missing=True)
    chapter = (root / "chapters" / "01-links.md").read_text().split("\n")
    line = next(number for number, text in enumerate(chapter, 1) if MISSING in text)
    message = f"chapters/01-links.md:{line}: the link to '{MISSING}' leads out of the book"
    assert main(["--root", str(root), "--check"]) == 0
    err = capsys.readouterr().err
    assert message in err and len(re.findall(r"(?m)^warning:", err)) == 1
    assert main(["--root", str(root), "--check", "--strict"]) == 1
    assert message in capsys.readouterr().err


# --- no output names the machine that built it ----------------------------------------------------


def test_no_output_holds_a_file_link_or_the_build_folder(every_product):
    folder, build = every_product
    outputs = [
        path
        for path in sorted(build.rglob("*"))
        if path.is_file()
        and "cache" not in path.relative_to(build).parts
        and not path.name.startswith(".")
    ]
    names = {path.relative_to(build).as_posix() for path in outputs}
    assert {"book.pdf", "teacher.pdf", "large-print.pdf", "booklet.pdf", "book.html"} <= names
    assert any(name.startswith("handouts/") for name in names)
    for path in outputs:
        data = _readable_bytes(path) if path.suffix == ".pdf" else path.read_bytes()
        assert b"file:" not in data, path.name
        assert str(folder).encode() not in data and b"/chapters/" not in data, path.name
    for path in (path for path in outputs if path.suffix == ".pdf"):
        uris = [
            annotation.get_object()["/A"].get("/URI", "")
            for page in PdfReader(path).pages
            for annotation in page.get("/Annots") or ()
            if "/A" in annotation.get_object()
        ]
        assert all(str(uri).startswith(("https:", "http:", "mailto:")) for uri in uris), path.name


def _readable_bytes(path: Path) -> bytes:
    """Every object of the PDF decompressed, and the text of its pages."""
    reader = PdfReader(path)
    chunks = [path.read_bytes()]
    for number in range(1, int(reader.trailer["/Size"])):
        item = reader.get_object(IndirectObject(number, 0, reader))
        if isinstance(item, StreamObject):
            chunks.append(item.get_data())
        chunks.append(repr(item).encode())
    chunks += [(page.extract_text() or "").encode() for page in reader.pages]
    return b"\n".join(chunks)


# --- web links, printed so that a reader can type them --------------------------------------------


@pytest.fixture(scope="module", params=["footnote", "after", "none"])
def web_form(request, tmp_path_factory):
    """(web_links, the reading edition built with it)."""
    if request.param == "footnote":  # the default: the book as it is
        return request.param, BookPdf(request.getfixturevalue("quiet_book") / "book.pdf")
    folder = tmp_path_factory.mktemp(f"links-{request.param}")
    root = links_only(
        website_copy(
            folder, lambda text: text.replace("web_links: footnote", f"web_links: {request.param}")
        )
    )
    build = folder / "build"
    assert build_quietly("--root", str(root), "--build-dir", str(build), "--force") == 0
    return request.param, BookPdf(build / "book.pdf")


def test_each_web_links_form_prints_as_documented(web_form):
    form, pdf = web_form
    text = plain_text(pdf)
    site = _address("https://weasyprint.org/")
    footnoted = re.search(r"\d+\. " + site, text)
    after = re.search(r"the WeasyPrint site \(" + site + r"\)\.", text)
    if form == "footnote":
        assert footnoted and not after
        assert re.search(r"the WeasyPrint site ?\d+ ?\.", text)  # the call, then the full stop
        assert re.search(r"\d+\. " + _address("editors@example.org"), text)  # without mailto:
    elif form == "after":
        assert after and not footnoted
        assert re.search(r"write to the editors \(" + _address("editors@example.org") + r"\)", text)
    else:
        assert "the WeasyPrint site. Back in" in text and "weasyprint.org" not in text
    # In a footnote, the footnote form prints the address after the text: a note holds no note.
    cited = r"the CSS specification \(" + _address("https://www.w3.org/TR/css-gcpm-3/") + r"\)"
    assert bool(re.search(cited, text)) == (form != "none")


def _address(url: str) -> str:
    """A pattern of the address as printed: it may break (a space, once squashed) anywhere."""
    return " ?".join(map(re.escape, url))


def test_a_link_whose_text_is_its_address_prints_it_once(web_form):
    _, pdf = web_form
    assert plain_text(pdf).count("www.example.org/reading-list") == 1


def test_a_web_note_stands_on_the_page_of_its_call(quiet_book):
    pdf = BookPdf(quiet_book / "book.pdf")
    page = next(i for i, text in enumerate(pdf.texts) if "WeasyPrint site" in text)
    assert "https://weasyprint.org/" in pdf.texts[page]


@pytest.mark.parametrize("edition", ["book.pdf", "large-print.pdf"])
def test_a_long_address_wraps_after_punctuation_without_a_hyphen(quiet_book, edition):
    pdf = BookPdf(quiet_book / edition)
    for url in LONG_URLS:
        pattern = r"\s*".join(re.escape(character) for character in url)
        found = [re.search(pattern, text.translate(INVISIBLE)) for text in pdf.texts]
        printed = next(match[0] for match in found if match)
        assert "\n" in printed, f"{url} fits on a line: it tests nothing"
        for before in re.findall(r"(.)\s*\n", printed):
            assert before in "/:?&=#_~+", f"{url} breaks after '{before}'"


@pytest.mark.parametrize("edition", ["book.pdf", "large-print.pdf"])
def test_a_long_address_stays_inside_the_page(quiet_book, edition):
    document = pypdfium2.PdfDocument(str(quiet_book / edition))
    try:
        for index in range(len(document)):
            image = document[index].render(scale=1).to_pil().convert("L")
            strip, (width, height) = round(5 * MM), image.size
            for box in (
                (0, 0, width, strip),
                (0, height - strip, width, height),
                (0, 0, strip, height),
                (width - strip, 0, width, height),
            ):
                assert image.crop(box).getextrema()[0] >= 250, f"page {index + 1}: ink in the edge"
    finally:
        document.close()


def test_a_long_address_stays_in_the_text_block(quiet_book):
    # The reading edition is justified: its lines end at the text block's edge, and an address
    # may reach that edge but not pass it.
    document = pypdfium2.PdfDocument(str(quiet_book / "book.pdf"))
    try:
        for page in document:
            text = page.get_textpage()
            boxes = [text.get_charbox(i) for i in range(text.count_chars())]
            characters = [text.get_text_range(i, 1) for i in range(len(boxes))]
            body = "".join(characters)
            spans = [
                match.span()
                for url in LONG_URLS
                for match in re.finditer(r"[\s\u200b\u2060\ufffe]*".join(map(re.escape, url)), body)
            ]
            inside = {i for start, end in spans for i in range(start, end)}
            if not inside:
                continue
            right_edge = max(
                boxes[i][2] for i in range(len(boxes)) if i not in inside and characters[i].strip()
            )
            assert max(boxes[i][2] for i in inside) <= right_edge + 0.5
    finally:
        document.close()


def test_printed_addresses_break_after_slashes_and_never_after_their_hyphens():
    printed = printed_url("https://example.org/the-great-terror/index.html?page=2")
    assert printed.translate(INVISIBLE) == "https://example.org/the-great-terror/index.html?page=2"
    assert printed.split("\u200b") == [
        "https://\u2060example.org/",
        "the-\u2060great-\u2060terror/",
        "index.html?",
        "page=",
        "2",
    ]
    assert same_address("https://www.example.org/a/", "example.org/a")
    assert not same_address("the archive", "https://example.org/")


# --- the web edition ------------------------------------------------------------------------------


def test_the_web_edition_keeps_plain_links(every_product):
    _, build = every_product
    html = (build / "book.html").read_text()
    assert 'href="#web"' in html and 'href="#further-reading-2"' in html
    assert 'href="https://weasyprint.org/"' in html and "link-note" not in html
    assert "(page" not in html and "\u200b" not in html and "link_" not in html
    assert "<span>a chapter left out</span>" in html
