"""The accessible PDF: tagged PDF/UA-1 with structure, language, title, alt text and table headers."""

from __future__ import annotations

from collections import Counter

import pytest
from pypdf import PdfReader

from bookpress.cli import main

from conftest import ROOT


def structure(reader: PdfReader):
    """(counts of structure types, the /Alt of each /Figure) of the structure tree."""
    counts, alts = Counter(), []

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return
        kind = node.get("/S")
        if kind:
            counts[kind] += 1
            if kind == "/Figure":
                alts.append(node.get("/Alt"))
        children = node.get("/K")
        for child in children if isinstance(children, list) else ([children] if children is not None else []):
            walk(child)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return counts, alts


def test_the_book_is_a_tagged_pdf_ua_document(book):
    root = book.reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a PDF boolean)
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    counts, alts = structure(book.reader)
    assert counts["/H1"] >= 10 and counts["/H2"] >= 20 and counts["/P"] >= 50
    assert counts["/Table"] >= 1 and counts["/TH"] >= 2, "table headers are marked as such"
    assert len(alts) == 2 and all(alt and len(alt) > 40 for alt in alts), "every figure has its alt text"


def test_the_joined_parts_make_one_structure_tree(book):
    """Every page and link of every part is found through the book's one parent tree."""
    root = book.reader.trailer["/Root"]["/StructTreeRoot"]
    numbers = root["/ParentTree"]["/Nums"]
    keys = list(numbers[::2])
    assert keys == sorted(set(keys))
    # Optional in PDF 1.7, and WeasyPrint writes none; the join does, and must count on.
    assert root.get("/ParentTreeNextKey", keys[-1] + 1) == keys[-1] + 1
    entries = dict(zip(keys, numbers[1::2]))
    document = root["/K"][0].get_object()
    assert document["/S"] == "/Document"
    assert all(kid.get_object().raw_get("/P").idnum == root["/K"][0].idnum for kid in document["/K"])
    links = 0
    for index, page in enumerate(book.pages):
        marked = entries[page["/StructParents"]]
        assert all(element.get_object().raw_get("/Pg").idnum == page.indirect_reference.idnum
                   for element in marked.get_object()), f"page {index + 1}"
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            element = entries[annotation["/StructParent"]].get_object()
            if element["/S"] == "/Link":  # (WeasyPrint tags a few as /Span, as in a book it writes whole)
                assert element["/K"][0].get_object().raw_get("/Obj").idnum == annotation.indirect_reference.idnum
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


def test_handouts_are_tagged_too(tmp_path):
    assert main(["--root", str(ROOT), "--product", "handouts", "--build-dir", str(tmp_path)]) == 0
    for path in sorted((tmp_path / "handouts").glob("*.pdf")):
        reader = PdfReader(path)
        assert "/StructTreeRoot" in reader.trailer["/Root"], path.name
        assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
        counts, _ = structure(reader)
        assert counts["/H1"] >= 1


# WeasyPrint 70 leaves its sRGB colour profile file open when it writes PDF/A.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
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
