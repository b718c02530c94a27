"""Finish stage: what HTML cannot say (page labels), then the PDF is written atomically."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter


def page_labels(runs):
    """A WeasyPrint finisher that labels pages as they are printed.

    runs: (first page index, style, first number) for each run of pages, e.g. the front
    matter in lower-case roman from i, the body in arabic from 1. Writing /PageLabels while
    WeasyPrint writes the file spares parsing it again (and rewriting its compressed,
    tagged structure without object streams, three times the size).
    """
    import pydyf

    def finish(document, pdf):
        numbers = []
        for index, style, start in runs:
            numbers += [index, pydyf.Dictionary({"S": "/" + style, "St": start})]
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array(numbers)})
    return finish


def book_labels(front_matter_pages: int, page_count: int):
    """Roman for the front matter, arabic from 1 for the body."""
    runs = [(0, "r", 1)] if front_matter_pages else []
    return runs + ([(front_matter_pages, "D", 1)] if page_count > front_matter_pages else [])


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


def _bytes(writer: PdfWriter) -> bytes:
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
