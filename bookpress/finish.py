"""Finish stage: what HTML cannot say (page labels), then the PDF is written atomically."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject


def with_page_labels(pdf: bytes, front_matter_pages: int) -> bytes:
    """Label pages as they are printed: i, ii, … for the front matter, then 1, 2, …"""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    if front_matter_pages:
        writer.set_page_label(0, front_matter_pages - 1, style="/r", start=1)
    if len(writer.pages) > front_matter_pages:
        writer.set_page_label(front_matter_pages, len(writer.pages) - 1, style="/D", start=1)
    return _bytes(writer)


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then move it into place.

    A build that fails or is interrupted never leaves a truncated file where the last
    good one was: os.replace swaps the whole file or nothing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file would be
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def impose_booklet(pdf: bytes) -> bytes:
    """Two pages side by side on each landscape sheet side, in saddle-stitch order."""
    from pypdf import PageObject, Transformation

    from .impose import saddle_stitch

    reader = PdfReader(io.BytesIO(pdf))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    writer = PdfWriter()
    for left, right in saddle_stitch(len(reader.pages)):
        side = PageObject.create_blank_page(width=2 * width, height=height)
        for index, offset in ((left, 0), (right, width)):
            if index is not None:
                side.merge_transformed_page(reader.pages[index], Transformation().translate(offset, 0))
        writer.add_page(side).compress_content_streams()  # merged streams come out uncompressed
    writer.add_metadata(reader.metadata or {})
    return _bytes(writer)


def extract_handout(pdf: bytes, ranges, title: str, bookmarks) -> bytes:
    """Some pages of the book as a PDF of their own, with the book's page numbers.

    ranges: (first page index, last page index, first folio) for each run of pages;
    bookmarks: (title, page index in the book) for the handout's outline.
    """
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    kept: dict[int, int] = {}
    for first, last, folio in ranges:
        start = len(writer.pages)
        for index in range(first, last + 1):
            kept[index] = len(writer.pages)
            writer.add_page(reader.pages[index])
        writer.set_page_label(start, len(writer.pages) - 1, style="/D", start=folio)
    _drop_links(writer)
    parent = None
    for level, text, index in bookmarks:
        item = writer.add_outline_item(title=text, page_number=kept[index], parent=None if level == 1 else parent)
        if level == 1:
            parent = item
    writer.add_metadata({**(reader.metadata or {}), "/Title": title})
    writer.page_mode = "/UseOutlines"
    return _bytes(writer)


def _drop_links(writer: PdfWriter) -> None:
    # Links of a handout would point into the book, which is not there.
    for page in writer.pages:
        if "/Annots" in page:
            kept = [a for a in page["/Annots"] if a.get_object().get("/Subtype") != "/Link"]
            if kept:
                page[NameObject("/Annots")] = ArrayObject(kept)
            else:
                del page["/Annots"]


def _bytes(writer: PdfWriter) -> bytes:
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
