"""The products of one build: reading edition, booklet, handouts, teacher's, large print, web."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .build import typeset_edition, warnings_checked
from .cache import PartCache
from .errors import LOGGER, BookError, warn
from .impose import saddle_stitch
from .load import load_book
from .model import FROM_READING_EDITION, HALF_PAPER, PRODUCTS, Book, Edition, Options
from .pool import usable_cores
from .readability import warn_hard_chapters


@dataclass(frozen=True)
class Output:
    """A file the build wrote."""

    product: str
    path: Path
    pages: int
    bytes: int
    seconds: float


def make_products(root: Path, options: Options, names, on_done=None) -> list[Output]:
    """Build the named products; independent ones in parallel processes when there are several."""
    with warnings_checked(options.strict):
        book = load_book(root)  # every source checked once, before any layout
        warn_hard_chapters(book)
    from .join import PublicPath, choose_path

    if isinstance(choose_path(options.public_path), PublicPath):  # said once, here
        options = dataclasses.replace(options, public_path=True)
    jobs = _jobs(names)
    if len(jobs) == 1:
        outputs = _run_job(jobs[0], root, options, book)
        for output in outputs:
            on_done and on_done(output)
        return outputs
    outputs = []
    # Under --strict a product stops on its own warnings, before it writes: here they are
    # only given once, however many products found them.
    with (
        warnings_checked(strict=False),
        ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool,
    ):
        # The products already share the cores: each lays its chapters out in its own process.
        one_core = dataclasses.replace(options, jobs=1)
        futures = [pool.submit(_run_job_apart, job, root, one_core, book) for job in jobs]
        for future in as_completed(futures):
            made, warnings = future.result()
            for record in warnings:
                LOGGER.handle(record)
            for output in made:
                outputs.append(output)
                on_done and on_done(output)
    order = list(PRODUCTS)
    return sorted(outputs, key=lambda output: (order.index(output.product), str(output.path)))


def _jobs(names) -> list[tuple[str, ...]]:
    # The handouts are cut from the reading edition, and the screen editions carry its page
    # numbers: one job lays it out for all of them.
    names = [name for name in PRODUCTS if name in names]
    reading = tuple(name for name in names if name in FROM_READING_EDITION)
    others = [(name,) for name in names if name not in FROM_READING_EDITION]
    return ([reading] if reading else []) + others


def _run_job_apart(
    job: tuple[str, ...], root: Path, options: Options, book: Book
) -> tuple[list[Output], list[logging.LogRecord]]:
    """_run_job in a process of its own, with the book the build loaded (its checks said once).

    The product's warnings come back with its outputs instead of being printed here: every
    product renders the same chapters and would give the same warnings.
    """
    kept = _Kept()
    LOGGER.handlers, LOGGER.filters, LOGGER.propagate = [kept], [], False  # this process's own
    return _run_job(job, root, options, book), kept.records


class _Kept(logging.Handler):
    """The warnings of a product made apart, kept to be sent back with it."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        record.msg, record.args = record.getMessage(), None  # as it will be printed
        self.records.append(record)


@dataclass(frozen=True)
class Made:
    """A product made in memory, not yet written."""

    product: str
    path: Path
    data: bytes
    pages: int


def _run_job(job: tuple[str, ...], root: Path, options: Options, book: Book) -> list[Output]:
    """Make the job's products, then (when nothing was wrong) write them."""
    start = time.perf_counter()
    with warnings_checked(options.strict), _time_limit(options.timeout, job[0]):
        made = (
            _reading_edition(book, options, job)
            if job[0] in FROM_READING_EDITION
            else MAKERS[job[0]](book, options)
        )
    from .finish import write_atomically

    for item in made:
        write_atomically(item.path, item.data)
    seconds = time.perf_counter() - start
    return [Output(item.product, item.path, item.pages, len(item.data), seconds) for item in made]


@contextlib.contextmanager
def _time_limit(seconds: int, product: str):
    """Stop a layout that runs past the limit (a runaway source) with a clear message."""

    def stop(signum, frame):
        raise BookError(
            Path("chapters"),
            None,
            f"building {product} took longer than {seconds} seconds",
            "look for a very long table or list in the last chapter you edited, "
            "or allow more time with --timeout",
        )

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _reading_edition(book: Book, options: Options, job) -> list[Made]:
    edition = Edition(
        options.paper,
        bleed=options.bleed,
        crop_marks=options.crop_marks,
        pdf_variant=options.pdf_variant,
    )
    pdf, typeset_book = _typeset(book, options, edition)
    outputs = []
    if "book" in job:
        path = options.output or _build_dir(book, options) / "book.pdf"
        outputs.append(Made("book", path, pdf, typeset_book.pages))
    if "handouts" in job:
        outputs += _handouts(
            book, options, edition, typeset_book, _build_dir(book, options) / "handouts"
        )
    if "web" in job or "epub" in job:
        outputs += _screen_editions(book, options, job, typeset_book)
    return outputs


def _screen_editions(book: Book, options: Options, job, typeset_book) -> list[Made]:
    """The web edition and the EPUB, numbered as the reading edition laid out here."""
    from .screen import screen_book

    paper = {"a4": "A4", "letter": "US Letter"}.get(options.paper, options.paper)
    screen = screen_book(book, typeset_book, f"the {paper} reading edition (book.pdf)")
    made = []
    if "web" in job:
        made.append(
            Made(
                "web", _build_dir(book, options) / "book.html", _web_page(screen, book).encode(), 1
            )
        )
    if "epub" in job:
        from .epub import make_epub

        made.append(
            Made(
                "epub",
                _build_dir(book, options) / "book.epub",
                make_epub(screen, book),
                len(screen.chapters),
            )
        )
    return made


def _web_page(screen, book: Book) -> str:
    from .web import web_page

    return web_page(screen, book)


def _booklet(book: Book, options: Options) -> list[Made]:
    from .finish import impose_booklet

    # Imposition keeps no structure tree: a printed booklet is not tagged.
    edition = Edition(HALF_PAPER[options.paper], back_cover=True, pdf_variant=None)
    pdf, typeset_book = _typeset(book, options, edition)
    sheets_sides = len(saddle_stitch(typeset_book.pages))
    _warn_thick_booklet(book, typeset_book.pages, sheets_sides // 2)
    return [
        Made(
            "booklet", _build_dir(book, options) / "booklet.pdf", impose_booklet(pdf), sheets_sides
        )
    ]


#: Sheets one fold and two staples hold: beyond, the stack is hard to fold flat, the
#: staples barely close, and the inner pages stick out past the outer ones.
BOOKLET_MAX_SHEETS = 16


def _warn_thick_booklet(book: Book, pages: int, sheets: int) -> None:
    if sheets > BOOKLET_MAX_SHEETS:
        warn(
            book.root / "chapters" / "book.yml",
            None,
            f"the booklet has {pages} pages on {sheets} sheets, more than the "
            f"{BOOKLET_MAX_SHEETS} sheets ({4 * BOOKLET_MAX_SHEETS} pages) one fold and two "
            "staples hold",
            "give the class the handouts (--product handouts) instead, or have book.pdf "
            "printed perfect-bound by a print shop",
        )


def _teacher(book: Book, options: Options) -> list[Made]:
    pdf, typeset_book = _typeset(
        book, options, Edition(options.paper, teacher=True, pdf_variant=options.pdf_variant)
    )
    return [Made("teacher", _build_dir(book, options) / "teacher.pdf", pdf, typeset_book.pages)]


def _large_print(book: Book, options: Options) -> list[Made]:
    pdf, typeset_book = _typeset(
        book, options, Edition(options.paper, large_print=True, pdf_variant=options.pdf_variant)
    )
    pages = typeset_book.pages
    return [Made("large-print", _build_dir(book, options) / "large-print.pdf", pdf, pages)]


MAKERS = {"booklet": _booklet, "teacher": _teacher, "large-print": _large_print}


# --- handouts ----------------------------------------------------------------------------------


def _handouts(
    book: Book, options: Options, edition: Edition, typeset_book, folder: Path
) -> list[Made]:
    """One handout per numbered chapter, and a revision sheet of the chapters drawn from data.

    Each is joined from the reading edition's own written parts, so it keeps their tags,
    their bookmarks and their page numbers.
    """
    from .build import fixed_clock
    from .join import choose_path

    path = choose_path(options.public_path)
    parts = dict(zip((chapter.slug for chapter in book.chapters), typeset_book.parts, strict=False))
    outputs = []
    for number, title, slug, chosen in handout_plan(book, parts):
        labels, start = [], 0
        for part in chosen:  # each part keeps the book's folios
            labels.append((start, "D", part.first_folio))
            start += len(part.written.pages)
        with fixed_clock(book):
            pdf = path.join(
                [part.written for part in chosen],
                typeset_book.front,
                edition.pdf_variant,
                labels,
                title=f"Handout {number} \u2014 {title} \u00b7 {book.info.title}",
            )
        outputs.append(Made("handouts", folder / f"{number:02d}-{slug}.pdf", pdf, start))
    return outputs


def handout_plan(book: Book, parts: dict):
    """(number, title, file slug, laid-out parts) of each handout."""
    plan = []
    for chapter in book.chapters:
        if chapter.number:
            plan.append((chapter.number, chapter.running_head, chapter.slug, [parts[chapter.slug]]))
    revision = [chapter for chapter in book.chapters if chapter.template and not chapter.number]
    if revision:
        title = "Revision sheet: " + " and ".join(chapter.running_head for chapter in revision)
        plan.append(
            (len(plan) + 1, title, "revision", [parts[chapter.slug] for chapter in revision])
        )
    return plan


def _typeset(book: Book, options: Options, edition: Edition):
    """typeset_edition, reusing the parts earlier builds kept in build/cache/ (one folder each)."""
    from .join import choose_path
    from .stamp import layout_digest

    path = choose_path(options.public_path)
    folder = (
        _build_dir(book, options)
        / "cache"
        / hashlib.sha256(repr(edition).encode()).hexdigest()[:16]
    )
    cache = PartCache(folder, layout_digest(book.root, repr(edition))) if path.parallel else None
    result = typeset_edition(book, edition, path, cache, workers=options.jobs or usable_cores())
    if cache is None:
        return result
    cache.prune(keep=len(cache.used))  # room for as many again: undoing an edit finds its parts
    return result


def _build_dir(book: Book, options: Options) -> Path:
    return options.build_dir or book.root / "build"
