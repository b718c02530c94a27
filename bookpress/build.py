"""The recipe: load → render → typeset → join → finish, for every product a build makes.

make_edition is the one place each stage runs for a laid-out edition; the finishers below
it make each kind of product (products.py says which product is of which kind).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import PartCache
from .clock import fixed_clock, source_date_epoch, w3c_date
from .epub import make_epub
from .errors import warn, warnings_checked
from .files import write_atomically
from .finish import book_labels, impose_booklet
from .impose import saddle_stitch
from .jobs import run_jobs, time_limit
from .join import PublicPath, choose_path
from .load import load_book
from .model import Book, Edition, Options
from .pool import usable_cores
from .products import PRODUCTS, editions
from .progress import step, working_on
from .readability import report as reading_report
from .readability import warn_hard_chapters
from .render import render_chapters
from .screen import ScreenBook, screen_book
from .stamp import layout_digest
from .web import web_page

if TYPE_CHECKING:
    from .typeset import TypesetBook


@dataclass(frozen=True)
class Output:
    """A file the build wrote."""

    product: str
    path: Path
    pages: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class Made:
    """A product made in memory, not yet written."""

    product: str
    path: Path
    data: bytes
    pages: int


def build(root: Path, options: Options, names, on_done=None) -> list[Output]:
    """Build the named products; editions laid out apart run side by side in processes."""
    with warnings_checked(options.strict):
        book = load_book(root)  # load: every source checked once, before any layout
        warn_hard_chapters(book)
    if isinstance(choose_path(options.public_path), PublicPath):  # said once, here
        options = dataclasses.replace(options, public_path=True)
    jobs = editions(names, options)
    outputs = run_jobs(jobs, functools.partial(make_and_write, book), options, on_done)
    if len(jobs) > 1:  # jobs side by side end in any order: the products in the table's
        order = list(PRODUCTS)
        outputs.sort(key=lambda output: (order.index(output.product), str(output.path)))
    return outputs


def make_and_write(book: Book, job: tuple[Edition, tuple[str, ...]], options: Options):
    """Make one edition's products, then (when nothing was wrong) write them."""
    edition, names = job
    start = time.perf_counter()
    with (
        warnings_checked(options.strict),
        time_limit(options.timeout, names[0]),
        working_on(names[0]),
    ):
        made = make_edition(book, edition, names, options)
    for item in made:
        write_atomically(item.path, item.data)
    seconds = time.perf_counter() - start
    return [Output(item.product, item.path, item.pages, len(item.data), seconds) for item in made]


def make_edition(book: Book, edition: Edition, names, options: Options) -> list[Made]:
    """One edition, rendered, laid out and joined once; then each product finished from it."""
    from .typeset import typeset  # WeasyPrint is imported only when there is layout to do

    path = choose_path(options.public_path)  # the fast path (engine.py) or the public one
    step("rendering the chapters")
    chapters = render_chapters(book, edition)  # render
    with fixed_clock(book):
        cache = part_cache(book, options, edition, path)
        laid_out = typeset(  # typeset
            book,
            chapters,
            edition,
            timestamp=w3c_date(source_date_epoch(book)),
            path=path,
            cache=cache,
            workers=options.jobs or usable_cores(),
        )
        labels = book_labels(laid_out.front_matter_pages, laid_out.pages)
        step("joining the parts", pages=laid_out.pages)
        pdf = path.join(laid_out.runs, laid_out.front, edition.pdf_variant, labels)  # join
    if cache is not None:
        cache.prune(keep=len(cache.used))  # room for as many again: undoing an edit finds its parts
    edition_made = EditionMade(book, options, edition, path, laid_out, pdf)
    return [made for name in names for made in finish(edition_made, name)]  # finish


def finish(edition: EditionMade, name: str) -> list[Made]:
    """The named product, made by the finisher its entry in the table names."""
    step(f"making {PRODUCTS[name].file}")
    return FINISHERS[PRODUCTS[name].finisher](edition, name)


def part_cache(book: Book, options: Options, edition: Edition, path) -> PartCache | None:
    """Where parts laid out by earlier builds are kept (a folder per edition): the fast path
    only, whose parts can be kept; the PDF is the same, byte for byte, as without it."""
    if not path.parallel:
        return None
    folder = build_dir(book, options) / "cache"
    folder /= hashlib.sha256(repr(edition).encode()).hexdigest()[:16]
    return PartCache(folder, layout_digest(book.root, repr(edition)))


@dataclass
class EditionMade:
    """An edition laid out and joined, which the finishers make products of."""

    book: Book
    options: Options
    edition: Edition
    path: Any  # the fast path (engine.FastPath) or the public one (join.PublicPath)
    laid_out: TypesetBook
    pdf: bytes

    def file(self, name: str) -> Path:
        if name == "book" and self.options.output:
            return self.options.output
        return build_dir(self.book, self.options) / PRODUCTS[name].file

    @cached_property
    def screen(self) -> ScreenBook:
        """The chapters for screens, numbered with the pages this edition put them on."""
        paper = {"a4": "A4", "letter": "US Letter"}.get(self.options.paper, self.options.paper)
        return screen_book(self.book, self.laid_out, f"the {paper} reading edition (book.pdf)")


# --- finishers: one per kind of product --------------------------------------------------------


def pdf_file(edition: EditionMade, name: str) -> list[Made]:
    """The joined PDF as it is: the reading edition, the teacher's, the large print."""
    return [Made(name, edition.file(name), edition.pdf, edition.laid_out.pages)]


def booklet(edition: EditionMade, name: str) -> list[Made]:
    """The pages two-up on each sheet side, in the order that folds into a booklet."""
    pages = edition.laid_out.pages
    sheet_sides = len(saddle_stitch(pages))
    warn_thick_booklet(edition.book, pages, sheet_sides // 2)
    return [Made(name, edition.file(name), impose_booklet(edition.pdf), sheet_sides)]


def handouts(edition: EditionMade, name: str) -> list[Made]:
    """One handout per numbered chapter, and a revision sheet of the chapters drawn from data.

    Each is joined from the edition's own laid-out parts, so it keeps their tags, their
    bookmarks and their page numbers.
    """
    book, laid_out = edition.book, edition.laid_out
    slugs = (chapter.slug for chapter in book.chapters)
    parts = dict(zip(slugs, laid_out.parts, strict=False))  # the index is no handout
    outputs = []
    for number, title, slug, chosen in handout_plan(book, parts):
        labels, start = [], 0
        for part in chosen:  # each part keeps the book's folios
            labels.append((start, "D", part.first_folio))
            start += len(part.kept.pages)
        with fixed_clock(book):
            pdf = edition.path.join(
                [part.kept for part in chosen],
                laid_out.front,
                edition.edition.pdf_variant,
                labels,
                title=f"Handout {number} \u2014 {title} \u00b7 {book.info.title}",
            )
        outputs.append(Made(name, edition.file(name) / f"{number:02d}-{slug}.pdf", pdf, start))
    return outputs


def web_edition(edition: EditionMade, name: str) -> list[Made]:
    """One self-contained page, numbered with the pages of the reading edition."""
    return [Made(name, edition.file(name), web_page(edition.screen, edition.book).encode(), 1)]


def epub_edition(edition: EditionMade, name: str) -> list[Made]:
    """The EPUB 3 edition, numbered with the pages of the reading edition."""
    data = make_epub(edition.screen, edition.book)
    return [Made(name, edition.file(name), data, len(edition.screen.chapters))]


FINISHERS: dict[str, Callable[[EditionMade, str], list[Made]]] = {
    "pdf": pdf_file,
    "booklet": booklet,
    "handouts": handouts,
    "web": web_edition,
    "epub": epub_edition,
}


def handout_plan(book: Book, parts: dict):
    """(number, title, file slug, laid-out parts) of each handout."""
    plan = []
    for chapter in book.chapters:
        if chapter.number:
            plan.append((chapter.number, chapter.running_head, chapter.slug, [parts[chapter.slug]]))
    revision = [chapter for chapter in book.chapters if chapter.template and not chapter.number]
    if revision:
        title = "Revision sheet: " + " and ".join(chapter.running_head for chapter in revision)
        chosen = [parts[chapter.slug] for chapter in revision]
        plan.append((len(plan) + 1, title, "revision", chosen))
    return plan


def warn_thick_booklet(book: Book, pages: int, sheets: int) -> None:
    # Past book.yml's booklet_sheets (16 unless it says more), one fold and two staples
    # hardly hold: the stack is hard to fold flat, the staples barely close, and the inner
    # pages stick out past the outer ones.
    most = book.info.booklet_sheets
    if sheets > most:
        warn(
            book.root / "chapters" / "book.yml",
            None,
            f"the booklet has {pages} pages on {sheets} sheets, more than the "
            f"{most} sheets ({4 * most} pages) one fold and two staples hold",
            "give the class the handouts (--product handouts) instead, have book.pdf printed "
            "perfect-bound by a print shop, or, if your stapler holds more sheets, say how many "
            "in chapters/book.yml: booklet_sheets: 24",
        )


def build_dir(book: Book, options: Options) -> Path:
    return options.build_dir or book.root / "build"


def check(root: Path, options: Options, report: bool = False) -> int:
    """Every check of a build, without layout: load and render, for both editions; with
    report, the reading level of each chapter."""
    with warnings_checked(options.strict):
        book = load_book(root)  # load
        warn_hard_chapters(book)
        for edition in (Edition(), Edition(teacher=True)):
            render_chapters(book, edition)  # render
    if report:
        print(reading_report(book, root))
    return 0
