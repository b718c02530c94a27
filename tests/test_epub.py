"""The EPUB edition: valid by EPUBCheck and DAISY Ace, its notes, pages and contents resolving,
its fonts subset, the same bytes on every build, and a reading system showing the book."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import pytest
from conftest import BOOKS, ROOT, build_quietly, epubcheck, outside_checker

import bookpress.build
import bookpress.epub
from bookpress.load import load_book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
OPF = "{http://www.idpf.org/2007/opf}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class Epub:
    """A built EPUB, read back: its package, its files, the screen book it was made from."""

    def __init__(self, path: Path, screen=None):
        self.path, self.screen = path, screen
        with zipfile.ZipFile(path) as archive:
            self.entries = archive.infolist()
            self.files = {entry.filename: archive.read(entry) for entry in self.entries}
        self.package = ET.fromstring(self.files["EPUB/package.opf"])
        self.items = {item.get("id"): item for item in self.package.iter(OPF + "item")}
        self.spine = [
            self.items[ref.get("idref")].get("href") for ref in self.package.iter(OPF + "itemref")
        ]

    def document(self, href: str) -> ET.Element:
        return ET.fromstring(self.files["EPUB/" + href])

    def ids(self, href: str) -> set[str]:
        return {element.get("id") for element in self.document(href).iter() if element.get("id")}

    def metadata(self, prop: str) -> list[str]:
        return [
            meta.text for meta in self.package.iter(OPF + "meta") if meta.get("property") == prop
        ]


def _build_recording_screen(*arguments: str):
    """Build the EPUB by the command line, keeping the ScreenBook it was made from."""
    seen = []
    make = bookpress.epub.make_epub

    def recording(screen, book):
        seen.append(screen)
        return make(screen, book)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bookpress.build, "make_epub", recording)  # where the recipe calls it
        assert build_quietly(*arguments) == 0
    return seen[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The build folder of the real book's EPUB, and the ScreenBook it was made from."""
    folder = tmp_path_factory.mktemp("epub") / "build"
    screen = _build_recording_screen(
        "--root", str(ROOT), "--product", "epub", "--build-dir", str(folder)
    )
    return folder, screen


@pytest.fixture(scope="module")
def epub(built) -> Epub:
    folder, screen = built
    return Epub(folder / "book.epub", screen)


@pytest.fixture(scope="module")
def website_epub(tmp_path_factory) -> Epub:
    """The test book written for a website: pictures from assets/, boxes, code, links."""
    root = tmp_path_factory.mktemp("website") / "project"
    shutil.copytree(BOOKS / "website", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    from bookpress.cli import main  # the book warns on purpose (see its book.yml)

    assert main(["--root", str(root), "--product", "epub", "--build-dir", str(root / "build")]) == 0
    return Epub(root / "build" / "book.epub")


# --- outside checkers ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["epub", "website_epub"])
def test_epubcheck_finds_no_error_and_no_warning(which, request):
    report = epubcheck(request.getfixturevalue(which).path)
    messages = [
        f"{m['severity']} {m['ID']}: {m['message']} at "
        + ", ".join(f"{place['path']}:{place['line']}" for place in m["locations"][:3])
        for m in report["messages"]
    ]
    assert (
        report["checker"]["nFatal"]
        == report["checker"]["nError"]
        == report["checker"]["nWarning"]
        == 0
    ), "\n".join(messages)
    assert report["publication"]["isScripted"] is False


@pytest.mark.parametrize("which", ["epub", "website_epub"])
def test_daisy_ace_finds_nothing_serious_and_agrees_with_the_accessibility_claims(
    which, request, tmp_path
):
    # `ace` is Ace's Electron runner, whose browser an install with --ignore-scripts leaves
    # out; `ace-puppeteer` runs the same checks in Chromium, already with --no-sandbox.
    ace = outside_checker("ace-puppeteer")
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed here (Debian: apt install chromium)")
    epub = request.getfixturevalue(which)
    environment = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": CHROMIUM, "HOME": str(tmp_path)}
    run = subprocess.run(
        [
            str(ace),
            "--silent",
            "--force",
            "--outdir",
            str(tmp_path / "report"),
            "--tempdir",
            str(tmp_path / "temp"),
            str(epub.path),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    findings = [
        (
            test["earl:test"]["earl:impact"],
            test["earl:test"]["dct:title"],
            subject["earl:testSubject"]["url"],
        )
        for subject in report["assertions"]
        for test in subject["assertions"]
    ]
    serious = [finding for finding in findings if finding[0] in ("serious", "critical")]
    assert not serious, serious
    assert report["earl:result"]["earl:outcome"] == "pass", findings
    metadata = report["a11y-metadata"]
    claimed = {
        "schema:accessMode",
        "schema:accessibilityFeature",
        "schema:accessibilityHazard",
        "schema:accessibilitySummary",
        "schema:accessModeSufficient",
        "dcterms:conformsTo",
    }
    assert not metadata["empty"] and claimed <= set(metadata["present"])


# --- the container and the package -----------------------------------------------------------


def test_the_container_starts_with_its_media_type_stored(epub):
    first = epub.entries[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert epub.files["mimetype"] == b"application/epub+zip" and first.extra == b""
    date = load_book(ROOT).info.date
    assert {entry.date_time for entry in epub.entries} == {
        (date.year, date.month, date.day, 0, 0, 0)
    }


def test_the_metadata_names_the_book_and_its_accessibility(epub):
    info = load_book(ROOT).info
    identifier = next(epub.package.iter("{http://purl.org/dc/elements/1.1/}identifier")).text
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", identifier)
    titles = [title.text for title in epub.package.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert titles == [info.title, info.subtitle]
    assert epub.metadata("dcterms:modified") == [f"{info.date.isoformat()}T00:00:00Z"]
    rights = next(epub.package.iter("{http://purl.org/dc/elements/1.1/}rights")).text
    assert info.licence in rights
    assert epub.metadata("schema:accessMode") == ["textual", "visual"]
    assert epub.metadata("schema:accessModeSufficient") == ["textual"]
    assert set(epub.metadata("schema:accessibilityFeature")) == {
        "structuralNavigation",
        "tableOfContents",
        "readingOrder",
        "alternativeText",
        "printPageNumbers",
        "pageBreakMarkers",
        "pageNavigation",
        "index",
        "displayTransformability",
    }
    assert epub.metadata("schema:accessibilityHazard") == ["none"]
    assert epub.metadata("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    assert "A4 reading edition" in epub.metadata("pageBreakSource")[0]


def test_the_spine_opens_on_the_cover_then_the_title_page(epub):
    cover, title, *_ = epub.spine
    cover_items = [
        item for item in epub.items.values() if "cover-image" in item.get("properties", "")
    ]
    assert [item.get("media-type") for item in cover_items] == ["image/svg+xml"]
    image = next(epub.document(cover).iter(XHTML + "img"))
    assert image.get("src") == cover_items[0].get("href") and image.get("alt").startswith("Cover: ")
    svg = ET.fromstring(epub.files["EPUB/" + cover_items[0].get("href")])
    assert svg.get("viewBox") == "0 0 1200 1800" and len(list(svg.iter(SVG + "path"))) >= 4
    headings = [
        element for element in epub.document(title).iter() if re.fullmatch(r"\{.*\}h1", element.tag)
    ]
    assert [heading.text for heading in headings] == [load_book(ROOT).info.title]


# --- the content documents -------------------------------------------------------------------


def test_every_document_is_well_formed_xhtml_in_the_books_language(epub, website_epub):
    for book in (epub, website_epub):
        for href in book.spine:
            root = book.document(href)  # raises on XML that is not well formed
            assert root.tag == XHTML + "html", href
            assert root.get(XML_LANG) == root.get("lang") == "en", href


def test_chapters_are_h2_under_the_books_h1_and_their_sections_h3(epub):
    for href in epub.spine[3:]:
        levels = [
            int(element.tag[-1])
            for element in epub.document(href).iter()
            if re.fullmatch(r"\{.*\}h[1-6]", element.tag)
        ]
        assert levels[0] == 2 and 1 not in levels, href
        assert all(after - before <= 1 for before, after in itertools.pairwise(levels)), (
            href,
            levels,
        )


def test_every_link_leads_to_a_file_and_an_id_of_the_book(epub, website_epub):
    for book in (epub, website_epub):
        ids = {href: book.ids(href) for href in book.spine}
        for href in book.spine:
            for link in book.document(href).iter(XHTML + "a"):
                target = link.get("href")
                if target is None or re.match(r"^[a-z]+:", target):
                    continue
                name, _, fragment = target.partition("#")
                name = name or href
                assert name in ids, (href, target)
                assert not fragment or unquote(fragment) in ids[name], (href, target)


def test_footnotes_are_note_references_and_asides_at_the_end_of_their_chapter(epub):
    notes = 0
    for href in epub.spine[3:]:
        document = epub.document(href)
        asides = {
            aside.get("id"): aside
            for aside in document.iter(XHTML + "aside")
            if aside.get(EPUB_TYPE) == "footnote"
        }
        references = [a for a in document.iter(XHTML + "a") if a.get(EPUB_TYPE) == "noteref"]
        assert len(references) == len(asides), href
        for number, reference in enumerate(references, start=1):
            aside = asides[reference.get("href")[1:]]
            assert reference.get("role") == "doc-noteref" and reference.text == str(number)
            assert aside.get("role") == "doc-footnote"
            back = next(aside.iter(XHTML + "a"))
            assert back.get("role") == "doc-backlink" and back.get("href") == "#" + reference.get(
                "id"
            )
            assert "".join(aside.itertext()).strip() != str(number)  # the note's text came along
        body = next(document.iter(XHTML + "body"))
        if asides:
            assert list(body)[-1].get(EPUB_TYPE) == "footnotes"
        assert not [
            span for span in document.iter(XHTML + "span") if span.get("class") == "footnote"
        ]
        notes += len(asides)
    defined = sum(
        len(set(re.findall(r"^\[\^([^\]]+)\]:", chapter.body, re.MULTILINE)))
        for chapter in load_book(ROOT).chapters
    )
    assert notes == defined > 10


def test_a_footnote_of_two_paragraphs_is_one_aside_of_two_and_the_text_around_its_call_stays():
    from bookpress.epub import content_document, serialize
    from bookpress.extensions import IdRegistry
    from bookpress.render import markdown_converter

    html = markdown_converter(IdRegistry()).convert(
        "Text.[^a] More.\n\n[^a]: First.\n\n    Second *part*.\n"
    )
    document = content_document(f"<section>{html}</section>", "c.xhtml", "C", "chapter")
    assert serialize(document.section) == (
        '<section epub:type="chapter" role="doc-chapter"><p>Text.<a class="note-call" '
        'id="note_1_call" '
        'href="#note_1" epub:type="noteref" role="doc-noteref">1</a> More.</p></section>'
    )
    [aside] = document.notes
    assert serialize(aside) == (
        '<aside class="footnote" epub:type="footnote" role="doc-footnote" id="note_1"><p>'
        '<a class="note-back" href="#note_1_call" role="doc-backlink" aria-label="1: back to the '
        'text">1</a>'
        " First.</p>"
        "<p>Second <em>part</em>.</p></aside>"
    )


def test_figures_are_inline_svg_in_documents_that_say_so(epub):
    for item in epub.items.values():
        if item.get("media-type") != "application/xhtml+xml":
            continue
        document = epub.document(item.get("href"))
        svgs = list(document.iter(SVG + "svg"))
        assert ("svg" in item.get("properties", "").split()) == bool(svgs), item.get("href")
        for svg in svgs:
            assert svg.get("viewBox") and svg.get("role") == "img" and svg.get("aria-label")
    assert sum(len(list(epub.document(href).iter(SVG + "svg"))) for href in epub.spine) == 4


def test_the_pictures_of_a_book_are_files_of_its_epub(website_epub):
    shown = [
        (href, image.get("src"))
        for href in website_epub.spine
        for image in website_epub.document(href).iter(XHTML + "img")
        if href != website_epub.spine[0]
    ]
    assert len(shown) >= 3
    by_href = {item.get("href"): item for item in website_epub.items.values()}
    for document, src in shown:
        assert by_href[src].get("media-type") == "image/png", (document, src)
        assert website_epub.files["EPUB/" + src] == (BOOKS / "website" / src).read_bytes()


# --- navigation and the printed pages -------------------------------------------------------


def _nav(epub: Epub, kind: str) -> list[tuple[str, str]]:
    nav = next(
        element
        for element in epub.document("nav.xhtml").iter(XHTML + "nav")
        if element.get(EPUB_TYPE) == kind
    )
    return [("".join(link.itertext()), link.get("href")) for link in nav.iter(XHTML + "a")]


def _resolves(epub: Epub, href: str) -> bool:
    name, _, fragment = href.partition("#")
    return name in epub.spine and (not fragment or unquote(fragment) in epub.ids(name))


def test_the_contents_lists_chapters_and_sections_and_leads_to_them(epub):
    toc = _nav(epub, "toc")
    titles = [title for title, _ in toc]
    for entry in epub.screen.contents:
        assert any(title.endswith(entry.heading.title) for title in titles)
        for child in entry.children:
            assert child.heading.title in titles
    assert titles[-1] == "Index"
    assert [href for _, href in toc if not _resolves(epub, href)] == []
    assert {title: href.split("#")[0] for title, href in _nav(epub, "landmarks")} == {
        "Cover": "cover.xhtml",
        "Contents": "nav.xhtml",
        "Start of the text": epub.spine[3],
        "Index": "index.xhtml",
    }


def test_the_page_list_has_each_printed_page_break_and_leads_to_its_marker(epub):
    pages = _nav(epub, "page-list")
    assert len(epub.screen.pages) > 20
    assert [label for label, _ in pages] == [page.label for page in epub.screen.pages]
    for (label, href), page in zip(pages, epub.screen.pages, strict=True):
        name, _, fragment = href.partition("#")
        assert fragment == page.id and name == epub.spine[3 + page.chapter]
        marker = next(
            element for element in epub.document(name).iter() if element.get("id") == page.id
        )
        assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("aria-label") == label
    markers = [
        element.get("id")
        for href in epub.spine[3:]
        for element in epub.document(href).iter()
        if element.get(EPUB_TYPE) == "pagebreak"
    ]
    assert markers == [page.id for page in epub.screen.pages]


# --- fonts and bytes ---------------------------------------------------------------------------


def test_the_fonts_are_woff2_subsets_that_the_stylesheet_loads(epub):
    from fontTools.ttLib import TTFont

    from bookpress.fonts import font_directories

    fonts = [item for item in epub.items.values() if item.get("media-type") == "font/woff2"]
    names = {Path(font.get("href")).name for font in fonts}
    assert {"SourceSerifPro-Regular.woff2", "SourceSansPro-Bold.woff2"} <= names
    stylesheet = epub.files["EPUB/book.css"].decode()
    for item in fonts:
        data = epub.files["EPUB/" + item.get("href")]
        full = next(
            folder / (Path(item.get("href")).stem + ".ttf")
            for folder in font_directories()
            if (folder / (Path(item.get("href")).stem + ".ttf")).is_file()
        )
        assert data[:4] == b"wOF2" and len(data) < full.stat().st_size / 4
        with TTFont(full) as whole:
            assert (
                0 < len(TTFont(io.BytesIO(data)).getGlyphOrder()) < len(whole.getGlyphOrder()) / 2
            )
        assert f'url("{item.get("href")}")' in stylesheet


def test_two_builds_give_the_same_bytes(built, tmp_path):
    """A second build in another process (another hash seed), from the first one's cache."""
    folder, _ = built
    again = tmp_path / "build"
    shutil.copytree(folder, again)
    (again / "book.epub").unlink()
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    environment.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "make_book.py"),
            "--root",
            str(ROOT),
            "--product",
            "epub",
            "--build-dir",
            str(again),
            "--force",
        ],
        check=True,
        capture_output=True,
        env=environment,
        timeout=600,
    )
    assert (again / "book.epub").read_bytes() == (folder / "book.epub").read_bytes()


# --- in a reading system ---------------------------------------------------------------------


def _screenshot(page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={profile}",
            "--window-size=600,900",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed here (Debian: apt install chromium)"
)
def test_a_reading_system_shows_the_cover_and_the_chapters_in_the_books_typefaces(epub, tmp_path):
    from PIL import Image

    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(epub.path) as archive:
        archive.extractall(folder)
    cover, chapter = tmp_path / "cover.png", tmp_path / "chapter.png"
    _screenshot(folder / "EPUB" / "cover.xhtml", cover, tmp_path / "profile")
    with Image.open(cover) as image:
        red, ink = image.convert("RGB").getpixel((300, 8)), image.convert("L").getextrema()
    assert red[0] > 100 and red[1] < 60 and ink[0] < 60  # the red band, and dark words below it
    _screenshot(folder / "EPUB" / epub.spine[4], chapter, tmp_path / "profile")
    # Without the EPUB's own fonts the same page looks different: the reader used them.
    stylesheet = folder / "EPUB" / "book.css"
    stylesheet.write_text(re.sub(r"@font-face \{[^}]*\}", "", stylesheet.read_text()))
    fallback = tmp_path / "fallback.png"
    _screenshot(folder / "EPUB" / epub.spine[4], fallback, tmp_path / "profile")
    with Image.open(chapter) as shown, Image.open(fallback) as plain:
        assert shown.convert("L").getextrema()[0] < 80  # there is text
        assert shown.tobytes() != plain.tobytes()
