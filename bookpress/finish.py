"""Finish stage: what HTML cannot say (page labels), then the PDF is written atomically."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject, StreamObject


def page_labels(runs):
    """The /PageLabels entry of a PDF's catalog: how readers number its pages.

    runs: (first page index, style, first number) for each run of pages, e.g. the front
    matter in lower-case roman from i, the body in arabic from 1. It is written with the
    joined book (join.py), so the PDF is never parsed again to label it.
    """
    import pydyf
    numbers = []
    for index, style, start in runs:
        numbers += [index, pydyf.Dictionary({"S": "/" + style, "St": start})]
    return pydyf.Dictionary({"Nums": pydyf.Array(numbers)})


def book_labels(front_matter_pages: int, page_count: int):
    """Roman for the front matter, arabic from 1 for the body."""
    runs = [(0, "r", 1)] if front_matter_pages else []
    return runs + ([(front_matter_pages, "D", 1)] if page_count > front_matter_pages else [])


def write_atomically(path: Path, data: bytes, durable: bool = True) -> None:
    """Write to a temporary file beside the target, then move it into place.

    A build that fails or is interrupted never leaves a truncated file where the last
    good one was: os.replace swaps the whole file or nothing. durable: on disk before it
    is moved into place (what a later build can check and remake need not wait for that).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file would be
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            if durable:
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
        placed = [(index, offset) for index, offset in ((left, 0.0), (right, width)) if index is not None]
        forms = {NameObject(f"/Page{index}"): writer._add_object(_page_as_form(reader.pages[index], writer))
                 for index, _ in placed}
        content = StreamObject()
        content.set_data(b" ".join(_draw_form(index, offset, reader.pages[index].mediabox) for index, offset in placed))
        side = writer.add_blank_page(width=2 * width, height=height)
        side[NameObject("/Contents")] = writer._add_object(content)
        side[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(forms)})
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
