"""Shared fixtures: the real book built once per test session, and throwaway projects.

Every build of the suite writes into a temporary folder of its own (--build-dir), never
into the repository's build/: the tests neither read nor change what `make book` left there.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from pdfpages import BookPdf

from bookpress.cli import main
from bookpress.errors import LOGGER
from bookpress.fonts import use_book_fonts

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


def build_real_book(folder: Path, *arguments: str) -> Path:
    """The repository's book built from scratch into folder (its cache too); its book.pdf."""
    assert not folder.exists() or not any(folder.iterdir()), f"{folder} is not empty"
    command = ["--root", str(ROOT), "--build-dir", str(folder), "--force", *arguments]
    assert build_quietly(*command) == 0
    return folder / "book.pdf"


# --- the environment of the test session ---------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def _environment_of_the_caller_left_out():
    """The suite gives the same results whoever runs it: SOURCE_DATE_EPOCH (which Debian
    and Nix set while packaging) would change every date the build writes. A test that
    checks it sets it itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        use_book_fonts()  # as make_book.py does: tests that lay out without it see no system font
        yield


def _skips_fail() -> bool:
    """In CI (CI=true) a skipped test is a failed one: what it would have checked went unchecked."""
    return os.environ.get("CI", "").strip().lower() == "true"


def _failed_instead_of_skipped(report) -> None:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    report.outcome = "failed"
    report.longrepr = f"CI=true, where a skipped test fails. {reason}"
    report.skipped_in_ci = True


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and _skips_fail():
        _failed_instead_of_skipped(report)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector):
    report = yield
    if report.skipped and _skips_fail():  # a whole module skipped, e.g. by pytest.importorskip
        _failed_instead_of_skipped(report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report, config):
    if getattr(report, "skipped_in_ci", False):  # a test skipped while setting up fails too
        return "failed", "F", "FAILED"
    return None


# --- books ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def book_path(tmp_path_factory) -> Path:
    """The real book, A4, built cold in a folder of its own."""
    return build_real_book(tmp_path_factory.mktemp("a4") / "build")


@pytest.fixture(scope="session")
def public_book_path(tmp_path_factory) -> Path:
    """The real book, A4, built by the public path: WeasyPrint's documented API only."""
    return build_real_book(tmp_path_factory.mktemp("a4-public") / "build", "--public-path")


@pytest.fixture(scope="session", params=["fast path", "public path"])
def book(request) -> BookPdf:
    """The reading edition as each path makes it: its every test runs on both."""
    path = "book_path" if request.param == "fast path" else "public_book_path"
    return BookPdf(request.getfixturevalue(path))


@pytest.fixture(scope="session")
def letter_book(tmp_path_factory) -> BookPdf:
    folder = tmp_path_factory.mktemp("letter") / "build"
    return BookPdf(build_real_book(folder, "--paper", "letter"))


@pytest.fixture
def project(tmp_path) -> Path:
    """A small book of our own (tests/books/minimal) with the real layout, in a temporary folder."""
    root = tmp_path / "project"
    shutil.copytree(BOOKS / "minimal", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    return root
