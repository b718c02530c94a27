"""Finish stage: what HTML cannot say (page labels), then the PDF is written atomically."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter


def with_page_labels(pdf: bytes, front_matter_pages: int) -> bytes:
    """Label pages as they are printed: i, ii, … for the front matter, then 1, 2, …"""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    if front_matter_pages:
        writer.set_page_label(0, front_matter_pages - 1, style="/r", start=1)
    if len(writer.pages) > front_matter_pages:
        writer.set_page_label(front_matter_pages, len(writer.pages) - 1, style="/D", start=1)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


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
