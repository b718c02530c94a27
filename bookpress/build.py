"""The recipe: load → render → typeset → finish."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from .load import load_book
from .model import Book, Options
from .render import render_chapters


def build(root: Path, options: Options) -> Path:
    """Build the book's PDF from the sources under root; returns where it went."""
    book = load_book(root)
    chapters = render_chapters(book)
    from .typeset import typeset  # WeasyPrint is imported only when there is layout to do
    from .finish import with_page_labels, write_atomically
    typeset_book = typeset(book, chapters, options, timestamp=document_timestamp(book))
    pdf = with_page_labels(typeset_book.document.write_pdf(), typeset_book.front_matter_pages)
    output = options.output or root / "build" / "book.pdf"
    write_atomically(output, pdf)
    return output


def document_timestamp(book: Book) -> str:
    """The PDF's creation date: SOURCE_DATE_EPOCH when set, else the date in book.yml, never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    else:
        moment = datetime.datetime.combine(book.info.date, datetime.time(), tzinfo=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
