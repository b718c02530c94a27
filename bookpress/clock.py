"""The build's date, never the clock's: the same sources give the same bytes on any day."""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator

from .model import Book


def source_date_epoch(book: Book) -> int:
    """The build's date: SOURCE_DATE_EPOCH when set, else the date in book.yml, never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    midnight = datetime.datetime.combine(book.info.date, datetime.time(), tzinfo=datetime.UTC)
    return int(midnight.timestamp())


def w3c_date(epoch: int) -> str:
    """The date as PDF and EPUB metadata write it: 2026-12-01T00:00:00Z."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def fixed_clock(book: Book) -> Iterator[None]:
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
