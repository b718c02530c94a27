"""The accessible PDF: PDF/UA-1 with structure, language, title, alt text, table headers."""

from __future__ import annotations

import itertools
import re

import pytest
from pdfpages import structure
from pypdf import PdfReader

from bookpress.cli import main


@pytest.fixture(scope="session")
def book(book_on_each_path):
    """The reading edition on each path: each path tags its own way."""
    return book_on_each_path


def test_the_book_is_a_tagged_pdf_ua_document(book):
    root = book.reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a PDF boolean)
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 (a PDF boolean)
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    counts, alts = structure(book.reader)
    # One h1 (the book's title), an h2 for each chapter and the contents, h3 for sections.
    assert counts["/H1"] == 1 and counts["/H2"] >= 10 and counts["/H3"] >= 20 and counts["/P"] >= 50
    assert counts["/Table"] >= 1 and counts["/TH"] >= 2, "table headers are marked as such"
    # The timeline, the bar chart and the two maps.
    assert len(alts) == 4 and all(alt and len(alt) > 40 for alt in alts), (
        "every figure has its alt text"
    )


def test_the_joined_parts_make_one_structure_tree(book):
    """Every page and link of every part is found through the book's one parent tree."""
    root = book.reader.trailer["/Root"]["/StructTreeRoot"]
    numbers = root["/ParentTree"]["/Nums"]
    keys = list(numbers[::2])
    assert keys == sorted(set(keys))
    # Optional in PDF 1.7, and WeasyPrint writes none; the join does, and must count on.
    assert root.get("/ParentTreeNextKey", keys[-1] + 1) == keys[-1] + 1
    entries = dict(zip(keys, numbers[1::2], strict=True))
    document = root["/K"][0].get_object()
    assert document["/S"] == "/Document"
    assert all(
        kid.get_object().raw_get("/P").idnum == root["/K"][0].idnum for kid in document["/K"]
    )
    links = 0
    for index, page in enumerate(book.pages):
        marked = entries[page["/StructParents"]]
        assert all(
            element.get_object().raw_get("/Pg").idnum == page.indirect_reference.idnum
            for element in marked.get_object()
        ), f"page {index + 1}"
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            element = entries[annotation["/StructParent"]].get_object()
            assert element["/S"] == "/Link", f"page {index + 1}"
            objects = [
                kid.get_object().raw_get("/Obj").idnum
                for kid in element["/K"]
                if not isinstance(kid, int) and kid.get_object().get("/Type") == "/OBJR"
            ]
            assert annotation.indirect_reference.idnum in objects
            links += 1
    assert links > 100


def test_each_font_is_embedded_once_for_the_whole_book(book):
    files = {}
    for page in book.pages:
        for font in page["/Resources"]["/Font"].values():
            for descendant in font.get_object()["/DescendantFonts"]:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                reference = descriptor.raw_get("/FontFile2") or descriptor.raw_get("/FontFile3")
                files.setdefault(str(descriptor["/FontName"]), set()).add(reference.idnum)
    assert len(files) >= 4 and all(len(found) == 1 for found in files.values()), files
    assert len({next(iter(found)) for found in files.values()}) == len(files)


def test_handouts_are_tagged_too(every_product):
    """A handout has no title page: its chapter titles are its /H1s (the book's /H2s)."""
    handouts = sorted((every_product / "handouts").glob("*.pdf"))
    assert len(handouts) >= 6
    for path in handouts:
        reader = PdfReader(path)
        assert "/StructTreeRoot" in reader.trailer["/Root"], path.name
        assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 (a PDF boolean)
        counts, _ = structure(reader)
        assert 1 <= counts["/H1"] <= 2 and counts["/H2"] >= 1, path.name  # its titles, its sections


# WeasyPrint 70 leaves its sRGB colour profile file open when it writes PDF/A.
@pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)
def test_an_archival_pdf_a_edition(project):
    assert main(["--root", str(project), "--pdf-variant", "pdf/a-3u"]) == 0
    reader = PdfReader(project / "build" / "book.pdf")
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in metadata and b"3" in metadata
    assert reader.trailer["/Root"]["/OutputIntents"]


@pytest.mark.parametrize("name", ["/Figure"])
def test_figures_are_tagged_in_reading_order(book, name):
    counts, alts = structure(book.reader)
    assert alts[0].startswith("A timeline") and alts[1].startswith("A bar chart")


def elements(reader: PdfReader):
    """Every structure element, in reading order."""

    def walk(node):
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
            if isinstance(kid, int):
                continue
            kid = kid.get_object()
            if isinstance(kid, dict) and kid.get("/Type") != "/OBJR" and "/S" in kid:
                yield kid
                yield from walk(kid)

    yield from walk(reader.trailer["/Root"]["/StructTreeRoot"])


def test_headings_never_skip_a_level(book):
    levels = [
        int(element["/S"][2:])
        for element in elements(book.reader)
        if re.fullmatch(r"/H[1-6]", element["/S"])
    ]
    assert levels[0] == 1 and levels.count(1) == 1
    jumps = [(before, after) for before, after in itertools.pairwise(levels) if after > before + 1]
    assert not jumps
    assert levels.count(2) >= 10  # the contents and each chapter, the index too


def test_nothing_is_tagged_empty(book):
    """Index marks and note calls are empty anchors in the HTML: no empty /Link or /Span stays."""
    empty = [
        element["/S"]
        for element in elements(book.reader)
        if element["/S"] in ("/Link", "/Span", "/NonStruct") and not element.get("/K")
    ]
    assert not empty


def test_running_heads_and_folios_are_artifacts(book):
    """Only what the tree holds is marked content with an MCID; the margins are pagination."""
    root = book.reader.trailer["/Root"]["/StructTreeRoot"]
    numbers = root["/ParentTree"]["/Nums"]
    entries = dict(zip(numbers[::2], numbers[1::2], strict=True))
    tree_elements = {
        element.indirect_reference.idnum
        for element in elements(book.reader)
        if element.indirect_reference is not None
    }
    pagination = 0
    for index, page in enumerate(book.pages):
        content = page.get_contents().get_data()
        mcids = [int(found) for found in re.findall(rb"/MCID (\d+)", content)]
        marked = entries[page["/StructParents"]].get_object()
        assert mcids == list(range(len(marked))), f"page {index + 1}"
        assert all(element.idnum in tree_elements for element in marked), f"page {index + 1}"
        pagination += len(re.findall(rb"/Artifact\s*<</Type /Pagination>>\s*BDC", content))
    body = [label for label in book.reader.page_labels if label.isdigit()]
    assert pagination >= len(body), "every folio of the body is an artifact"


def test_every_annotation_prints_and_says_where_its_link_leads(book):
    reader = book.reader
    labels = reader.page_labels
    destinations = {
        name: reader.get_destination_page_number(dest)
        for name, dest in reader.named_destinations.items()
    }
    internal = 0
    for page in book.pages:
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            assert annotation["/F"] & 4, "printed, as on the screen"
            if "/Dest" not in annotation:
                assert annotation["/Contents"] == annotation["/A"]["/URI"]
                continue
            described = re.fullmatch(r"(?:(.+), )?page ([0-9ivxlc]+)", annotation["/Contents"])
            assert described, annotation["/Contents"]
            assert described[2] == labels[destinations[annotation["/Dest"]]]
            internal += 1
    assert internal > 300
    contents = [
        annotation.get_object()["/Contents"] for annotation in book.pages[4].get("/Annots", [])
    ]
    assert any(
        re.fullmatch(r"The Gulag Labour Camp System, page \d+", text) for text in contents
    ), contents


def test_table_headers_carry_their_scope(book):
    cells = [element for element in elements(book.reader) if element["/S"] == "/TH"]
    scopes = [cell["/A"]["/Scope"] for cell in cells]
    assert scopes.count("/Row") == 8, "each characteristic heads its row"
    assert "/Column" in scopes and set(scopes) == {"/Row", "/Column"}


def test_a_table_over_several_pages_is_one_table_with_one_head(book):
    """WeasyPrint tags each page's part of a table as a table; the join makes them one again,
    the head it repeats on later pages an artifact (tagging.join_tables)."""
    pages = {page.indirect_reference.idnum: index for index, page in enumerate(book.pages)}
    tables = [element for element in elements(book.reader) if element["/S"] == "/Table"]
    summary = [table for table in tables if "/Caption" in [kid["/S"] for kid in _kids(table)]]
    (table,) = [table for table in summary if sum(_count(table, "/TH", "/Row")) == 8]
    parts = [kid["/S"] for kid in _kids(table)]
    assert parts.count("/THead") == 1 and parts.count("/TBody") >= 2, parts
    bodies = [kid for kid in _kids(table) if kid["/S"] == "/TBody"]
    assert len({pages[body.raw_get("/Pg").idnum] for body in bodies}) >= 2, "it runs over pages"
    assert len(tables) == sum(1 for element in elements(book.reader) if element["/S"] == "/THead")


def _kids(element) -> list:
    kids = element.get("/K")
    kids = kids if isinstance(kids, list) else [kids]
    return [
        kid.get_object() for kid in kids if not isinstance(kid, int) and "/S" in kid.get_object()
    ]


def _count(element, kind: str, scope: str):
    for kid in _kids(element):
        if kid["/S"] == kind and kid.get("/A", {}).get("/Scope") == scope:
            yield 1
        yield from _count(kid, kind, scope)


def test_a_figures_bounding_box_is_where_it_is_drawn(book):
    """/BBox in the page's user space (ISO 32000-1, 14.8.5.4.3): inside the page's text
    column, and its caption's first line just below it. WeasyPrint writes CSS pixels from
    the page's top, a box a third too large (tagging.figure_boxes_in_user_space)."""
    pages = {page.indirect_reference.idnum: index for index, page in enumerate(book.pages)}
    figures = [element for element in elements(book.reader) if element["/S"] == "/Figure"]
    assert len(figures) == 4
    for figure in figures:
        index = pages[figure.raw_get("/Pg").idnum]
        left, bottom, right, top = (float(value) for value in figure["/A"]["/BBox"])
        page = book.pages[index]
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert 30 < left < right < width - 30 and 30 < bottom < top < height - 30
        captions = []

        def found(text, cm, tm, _font, _size, captions=captions):
            if text.startswith("Figure"):  # its baseline, in user space
                captions.append(cm[1] * tm[4] + cm[3] * tm[5] + cm[5])

        page.extract_text(visitor_text=found)
        assert captions, f"page {index + 1}: no caption"
        below = [bottom - y for y in captions if 0 < bottom - y < 40]
        assert below, f"page {index + 1}: the caption is not just below {bottom:.0f}: {captions}"
