"""The recipe: load → render → typeset → finish, for one edition of the book."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
from pathlib import Path

from .cache import PartCache
from .errors import LOGGER, BookError, BookErrors, WarningCollector
from .finish import book_labels
from .model import Book, Edition, Options
from .render import render_chapters


def build(root: Path, options: Options) -> Path:
    """Build the reading edition, build/book.pdf; returns where it went."""
    from .products import make_products

    return make_products(root, options, ["book"])[0].path


def typeset_edition(
    book: Book, edition: Edition, path, cache: PartCache | None = None, workers: int = 1
):
    """One edition laid out and finished: (PDF bytes, the laid-out book).

    path: the fast path (engine.py) or the public one (join.py); the book is the same.

    cache: where parts laid out by earlier builds are kept; only those whose inputs have
    not changed are reused, and the PDF is the same, byte for byte, as without it.
    workers: processes that may lay out chapters side by side; the PDF is the same.
    """
    chapters = render_chapters(book, edition)
    from .typeset import typeset  # WeasyPrint is imported only when there is layout to do

    epoch = source_date_epoch(book)
    with fixed_clock(book):
        typeset_book = typeset(
            book, chapters, edition, timestamp=_w3c(epoch), path=path, cache=cache, workers=workers
        )
        labels = book_labels(typeset_book.front_matter_pages, typeset_book.pages)
        pdf = path.join(typeset_book.runs, typeset_book.front, edition.pdf_variant, labels)
    return pdf, typeset_book


@contextlib.contextmanager
def warnings_checked(strict: bool):
    """Under --strict, the warnings of a build stop it before anything is written.

    They are reported with the errors that stop it anyway, if any: each problem once.
    """
    collector, once = WarningCollector(), _Once()
    LOGGER.addHandler(collector)
    LOGGER.addFilter(once)
    try:
        yield
    except (BookError, BookErrors) as failure:
        if strict and collector.errors:
            found = failure.errors if isinstance(failure, BookErrors) else [failure]
            raise BookErrors([*found, *collector.errors]) from None
        raise
    finally:
        LOGGER.removeHandler(collector)
        LOGGER.removeFilter(once)
    if strict and collector.errors:
        raise BookErrors(collector.errors) if len(collector.errors) > 1 else collector.errors[0]


class _Once(logging.Filter):
    """Each warning once: the worker processes read the same stylesheets as the build, and
    each edition renders the same chapters (products made apart send theirs back to it)."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def source_date_epoch(book: Book) -> int:
    """The build's date: SOURCE_DATE_EPOCH when set, else the date in book.yml, never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    midnight = datetime.datetime.combine(book.info.date, datetime.time(), tzinfo=datetime.UTC)
    return int(midnight.timestamp())


def _w3c(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def fixed_clock(book: Book):
    """Let the font subsetter (fontTools) stamp embedded fonts with the book's date.

    fontTools writes the current time into each subset font's 'head' table unless
    SOURCE_DATE_EPOCH is set; two builds a second apart would then differ in bytes.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(source_date_epoch(book))
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
