"""Shared fixtures: the real book built once per test session, and throwaway projects."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bookpress.cli import main
from bookpress.errors import LOGGER

from pdfpages import BookPdf

ROOT = Path(__file__).resolve().parents[1]
BOOKS = Path(__file__).resolve().parent / "books"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def build_quietly(*arguments: str) -> int:
    """Run the command line and fail the test on any warning the pipeline logs."""
    collector = _Collect()
    LOGGER.addHandler(collector)
    try:
        code = main(list(arguments))
    finally:
        LOGGER.removeHandler(collector)
    assert not collector.records, [record.getMessage() for record in collector.records]
    return code


@pytest.fixture(scope="session")
def book_path(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("a4") / "book.pdf"
    assert build_quietly("--root", str(ROOT), "--output", str(output)) == 0
    return output


@pytest.fixture(scope="session")
def book(book_path) -> BookPdf:
    return BookPdf(book_path)


@pytest.fixture(scope="session")
def letter_book(tmp_path_factory) -> BookPdf:
    output = tmp_path_factory.mktemp("letter") / "book.pdf"
    assert build_quietly("--root", str(ROOT), "--paper", "letter", "--output", str(output)) == 0
    return BookPdf(output)


@pytest.fixture
def project(tmp_path) -> Path:
    """A small book of our own (tests/books/minimal) with the real layout, in a temporary folder."""
    root = tmp_path / "project"
    shutil.copytree(BOOKS / "minimal", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    return root
