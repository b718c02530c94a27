"""Finish stage: the page labels of a laid-out book, and the booklet imposed with pypdf."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    StreamObject,
)


def book_labels(front_matter_pages: int, page_count: int):
    """Roman for the front matter, arabic from 1 for the body."""
    runs = [(0, "r", 1)] if front_matter_pages else []
    return runs + ([(front_matter_pages, "D", 1)] if page_count > front_matter_pages else [])


def impose_booklet(pdf: bytes) -> bytes:
    """Two pages side by side on each landscape sheet side, in saddle-stitch order.

    Each page becomes a form XObject that the sheet draws where it belongs, as imposition
    software does: its content stream is copied, never parsed into operators.
    """
    from .impose import saddle_stitch

    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    width, height = float(box.width), float(box.height)
    writer = PdfWriter()
    for left, right in saddle_stitch(len(reader.pages)):
        placed = [
            (index, offset) for index, offset in ((left, 0.0), (right, width)) if index is not None
        ]
        forms = {
            NameObject(f"/Page{index}"): writer._add_object(
                _page_as_form(reader.pages[index], writer)
            )
            for index, _ in placed
        }
        content = StreamObject()
        content.set_data(
            b" ".join(
                _draw_form(index, offset, reader.pages[index].mediabox) for index, offset in placed
            )
        )
        side = writer.add_blank_page(width=2 * width, height=height)
        side[NameObject("/Contents")] = writer._add_object(content)
        side[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/XObject"): DictionaryObject(forms)}
        )
    writer.add_metadata(reader.metadata or {})
    return _bytes(writer)


def _page_as_form(page, writer: PdfWriter):
    """A page's drawing as a form XObject for writer, compressed again as it was."""
    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data())  # one stream, or several joined, never parsed
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(value) for value in page.mediabox)
    form[NameObject("/Resources")] = page["/Resources"].clone(writer)
    return form.flate_encode()


def _draw_form(index: int, offset: float, box) -> bytes:
    x, y = offset - float(box.left), -float(box.bottom)
    return f"q 1 0 0 1 {x:.4f} {y:.4f} cm /Page{index} Do Q".encode()


def _bytes(writer: PdfWriter) -> bytes:
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
