"""The recipe: load → render → typeset → finish."""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path

from .errors import LOGGER, BookErrors, WarningCollector
from .load import load_book
from .model import Book, Options
from .render import render_chapters


def build(root: Path, options: Options) -> Path:
    """Build the book's PDF from the sources under root; returns where it went."""
    with _warnings(strict=options.strict):
        book = load_book(root)
        chapters = render_chapters(book)
        from .typeset import typeset  # WeasyPrint is imported only when there is layout to do
        from .finish import with_page_labels, write_atomically
        epoch = source_date_epoch(book)
        with _fixed_clock(epoch):
            typeset_book = typeset(book, chapters, options, timestamp=_w3c(epoch))
            pdf = with_page_labels(typeset_book.document.write_pdf(), typeset_book.front_matter_pages)
    output = options.output or root / "build" / "book.pdf"
    write_atomically(output, pdf)
    return output


@contextlib.contextmanager
def _warnings(strict: bool):
    """Under --strict, the warnings of the build stop it before anything is written."""
    collector = WarningCollector()
    LOGGER.addHandler(collector)
    try:
        yield
    finally:
        LOGGER.removeHandler(collector)
    if strict and collector.errors:
        raise BookErrors(collector.errors) if len(collector.errors) > 1 else collector.errors[0]


def source_date_epoch(book: Book) -> int:
    """The build's date: SOURCE_DATE_EPOCH when set, else the date in book.yml, never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    midnight = datetime.datetime.combine(book.info.date, datetime.time(), tzinfo=datetime.timezone.utc)
    return int(midnight.timestamp())


def _w3c(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def _fixed_clock(epoch: int):
    """Let the font subsetter (fontTools) stamp embedded fonts with the book's date.

    fontTools writes the current time into each subset font's 'head' table unless
    SOURCE_DATE_EPOCH is set; two builds a second apart would then differ in bytes.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
