"""Typeset stage: WeasyPrint lays out each chapter from the page it starts on, then the rest."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from . import progress
from .backmatter import plain_text
from .cache import PartCache
from .errors import BookError, BookErrors, warn
from .extensions import (
    FOLLOWING_WORDS_MARK,
    FOOTNOTE_DEFINITION,
    NOTE_ID,
    PAGE_LINK,
    note_call_id,
)
from .fetch import BookFetcher, unpacked
from .fonts import carried_faces
from .index import Occurrence, build_index
from .model import (
    Book,
    ChapterSource,
    ContentsEntry,
    Edition,
    Heading,
    IndexMark,
    RenderedChapter,
    contents_entry,
)
from .pool import LayoutPool, Task, can_fork
from .render import (
    INDEX_ID,
    LOCAL,
    render_back_cover,
    render_blank_page,
    render_front_matter,
    render_index,
)
from .sources import numbered_lines

STYLESHEETS = ("fonts.css", "book.css", "highlight.css")
#: Tried in order for a chapter whose footnotes do not all land on the page of their call.
NOTE_FALLBACKS = ("notes-block.css", "notes-relaxed.css", "breaks-relaxed.css", "boxes-relaxed.css")


@dataclass(frozen=True)
class LaidOutPart:
    """A chapter or the index: its pages, laid out from the folio it starts on, then written."""

    headings: tuple[Heading, ...]  # the first is the part's title
    number: int | None
    marks: tuple[IndexMark, ...]
    first_folio: int
    task: Task  # its page count and folios, then (once written) its part

    @property
    def folios(self) -> dict:
        """Element id -> folio of the page it landed on."""
        return self.task.told().folios

    @property
    def last_folio(self) -> int:
        return self.first_folio + self.task.told().pages - 1

    @property
    def kept(self):
        """The part as the path keeps it: written (fast path) or laid out (public path)."""
        return self.task.result()


class Layout(NamedTuple):
    """How a part came out of layout: what is known of it before it is written."""

    pages: int
    folios: dict  # element id -> folio of the page it landed on
    step: int | None  # the step of the notes' ladder it was laid out at (a chapter's)
    moved: tuple[str, ...] | None  # ids of the footnotes set on the page after their call


@dataclass(frozen=True)
class TypesetBook:
    """The laid-out book: its runs of written pages in order, ready to be joined into one PDF."""

    # Each part as kept: front matter, chapters, blank pages, index…; a blank comes more than once.
    runs: tuple
    front: object  # the front matter, whose document entries (title, language) the book's PDF takes
    front_matter_pages: int
    parts: tuple[LaidOutPart, ...]
    contents: tuple[ContentsEntry, ...]

    @property
    def pages(self) -> int:
        return sum(len(run.pages) for run in self.runs)


class Typesetter:
    """Lays out documents with the book's stylesheets, fonts and fetcher."""

    def __init__(
        self,
        book: Book,
        edition: Edition,
        path,
        cache: PartCache | None = None,
        pool: LayoutPool | None = None,
    ):
        self.book = book
        self.path = path  # the fast path (engine.py) or the public one (join.py)
        self.cache = cache if cache is not None and path.parallel else PartCache(None, "")
        self.pool = pool  # where chapters are laid out, if not here
        self.fetcher = BookFetcher(book.root)
        self.font_config = FontConfiguration()
        self.stylesheets = [self._stylesheet(name) for name in (*STYLESHEETS, *edition.stylesheets)]
        if edition.bleed or edition.crop_marks:
            # Bleed and crop marks are the print shop's, asked for on the command line.
            marks = "crop" if edition.crop_marks else "none"
            self.stylesheets.append(
                CSS(string=f"@page {{ bleed: {edition.bleed or '0'}; marks: {marks} }}")
            )
        self.fallbacks = [self._stylesheet(name) for name in NOTE_FALLBACKS]
        self.settled: dict = {}  # chapter path -> the step of the ladder its notes last fitted at
        self.settled_tasks: set[Task] = set()  # the chapters' layouts settle has seen
        self.variant = edition.pdf_variant

    def write(self, document):
        return self.path.write(document, self.variant)

    def _stylesheet(self, name: str):
        path = self.book.layout_dir / name
        with engine_warnings(path, CSS_HINT.format(name=name)):
            return CSS(filename=str(path), url_fetcher=self.fetcher, font_config=self.font_config)

    def render(self, html: str, first_folio: int | None = None, extra=(), source=None):
        """Lay out one document; relative URLs in it start from chapters/, as in the sources."""
        first = (
            [CSS(string=f"@page :first {{ counter-reset: page {first_folio} }}")]
            if first_folio
            else []
        )
        base_url = (self.book.root / "chapters").as_uri() + "/"
        document = HTML(string=html, base_url=base_url, url_fetcher=self.fetcher)
        path = source.path if source is not None else self.book.layout_dir
        with engine_warnings(path):
            try:
                laid_out = document.render(
                    stylesheets=[*self.stylesheets, *extra, *first], font_config=self.font_config
                )
            except (BookError, BookErrors):  # the book's, found while laying out (--timeout)
                raise
            except Exception as failure:  # WeasyPrint's own fault, not a mistake in the book
                raise engine_failure(path, failure) from None
            self._refuse_fetches(source)  # a refused file is an error (and not also a warning)
        return laid_out

    def _refuse_fetches(self, source) -> None:
        """Fail on anything the document asked for outside the book (WeasyPrint only logs it)."""
        refused, self.fetcher.refused = self.fetcher.refused, []
        if refused:
            path = source.path if source is not None else self.book.root / "layout"
            url = refused[0]
            line = _line_of(source, url) if source is not None else None
            raise BookError(
                path,
                line,
                f"the book may only use files from assets/, not {url[:120]}",
                "put the file in assets/ and refer to it as ../assets/NAME",
            )

    def typeset_part(self, kind: str, html: str, first_folio: int | None = None) -> Task:
        """A part without notes (the index, the front matter…): laid out and written, or as kept.

        With a pool, this returns at once; the part is laid out and written meanwhile.
        """

        def lay_out() -> Task:
            if self.pool is not None:
                return self.pool.submit((None, first_folio, html, 0))
            return self._done(self.render(html, first_folio), first_folio=first_folio or 1)

        return self._from_cache(self.cache.key(kind, html, first_folio), lay_out)

    def typeset_chapter(self, chapter: RenderedChapter, first_folio: int, html: str) -> Task:
        """A chapter laid out (see render_chapter) and written, or as kept from an earlier build.

        With a pool, this returns at once; settle waits for the layout.
        """
        # A later pass (page numbers filled in) starts where the chapter settled before.
        start = self.settled.get(chapter.source.path, 0)

        def lay_out() -> Task:
            if self.pool is not None:
                return self.pool.submit((chapter, first_folio, html, start))
            return self._done(
                *self.render_chapter(chapter, first_folio, html, start), first_folio=first_folio
            )

        return self._from_cache(self.cache.key("chapter", html, first_folio, start), lay_out)

    def settle(self, chapter: RenderedChapter, task: Task) -> None:
        """Once a chapter's layout is told: the step of the ladder it settled on, kept for
        its next layout, and a warning if a note still left its page (once per layout)."""
        if task in self.settled_tasks:
            return
        self.settled_tasks.add(task)
        layout = task.told()
        self.settled[chapter.source.path] = layout.step
        for note in layout.moved or ():
            line, name = note_definition(chapter.source, chapter.html, note)
            warn(
                chapter.source.path,
                line,
                f"{name} stands on the page after its call",
                "shorten this footnote or the text around its call, or move the call to "
                "another sentence",
            )

    def _from_cache(self, key: str, lay_out) -> Task:
        """The part kept under key, or laid out now and kept once written."""
        kept = self.cache.get(key)
        if kept is not None:
            part, folios, step, moved = kept
            return Task.done(Layout(len(part.pages), folios, step, moved), part)
        task = lay_out()

        def keep(part) -> None:
            layout = task.told()
            self.cache.put(key, (part, layout.folios, layout.step, layout.moved))

        task.then(keep)
        return task

    def _done(self, document, step=None, moved=None, *, first_folio: int) -> Task:
        """A document laid out here: where its elements landed, then written (its pages let go)."""
        layout = Layout(len(document.pages), _folios(document, first_folio, self.path), step, moved)
        return Task.done(layout, self.write(document))

    def render_chapter(self, chapter: RenderedChapter, first_folio: int, html: str, start: int = 0):
        """Lay out a chapter so that every footnote stands on the page of its call.

        WeasyPrint may push a note to the next page (or, rarely, drop it) when widows and
        orphans forbid a break (footnotes and forbidden page breaks: see WeasyPrint issue
        #2432); the chapter is then laid out again with those relaxed, from
        step start of the ladder on. Returns the document, the step, and the notes that
        still stand on the page after their call.
        """
        attempts = []
        ladder = ((), *([fallback] for fallback in self.fallbacks))
        for step, extra in enumerate(ladder[start:], start):
            document = self.render(html, first_folio, extra, chapter.source)
            misplaced = misplaced_notes(document)
            if not misplaced:
                return document, step, ()
            attempts.append((misplaced, step, document))
        misplaced, step, document = min(
            attempts, key=lambda attempt: (len(attempt[0].lost), len(attempt[0].moved))
        )
        if misplaced.lost:
            line, name = note_definition(chapter.source, html, misplaced.lost[0])
            others = len(misplaced.lost) - 1
            raise BookError(
                chapter.source.path,
                line,
                f"{name} cannot be placed on any page"
                + (f" (nor can {others} more of this chapter's footnotes)" if others else ""),
                "shorten this footnote or the text around its call, or move the call to "
                "another sentence",
            )
        return document, step, misplaced.moved


CSS_HINT = "correct it in layout/{name}: WeasyPrint leaves out what it cannot read"


class _Relay(logging.Handler):
    """WeasyPrint's warnings while a stylesheet is read or a document laid out."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


#: 'Ignored `colr: red` at 12:3, unknown property.': the line, in the stylesheet WeasyPrint read.
ENGINE_PLACE = re.compile(r"\bat (\d+):(\d+)\b")


def engine_failure(path, failure: Exception) -> BookError:
    """WeasyPrint failing on a document (an assertion of its own, a bug), told as the book's
    error: the file it was laying out, where in WeasyPrint it stopped, and what to try."""
    frame = traceback.extract_tb(failure.__traceback__)[-1]
    said = f": {str(failure)[:200]}" if str(failure) else ""
    return BookError(
        path,
        None,
        f"WeasyPrint stopped while laying this out ({type(failure).__name__} at "
        f"{Path(frame.filename).name}:{frame.lineno}{said})",
        "this is a fault in WeasyPrint, not in the text: undo the last change to this file, "
        "or change its boxes, tables and pictures one at a time to find what it trips on, "
        "and report it at https://github.com/Kozea/WeasyPrint/issues",
    )


@contextlib.contextmanager
def engine_warnings(path, hint: str | None = None):
    """Report WeasyPrint's own warnings as the book's, with the file (and line) they are about.

    WeasyPrint only logs what it ignores (a misspelt property, a value it cannot read), so a
    mistake in layout/ would otherwise leave the book silently different; through warn(),
    --strict makes each of them an error. Work that fails reports its error instead.
    """
    relay = _Relay()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(relay)
    try:
        yield
    finally:
        logger.removeHandler(relay)
    for record in relay.records:
        message = record.getMessage()
        place = ENGINE_PLACE.search(message)
        warn(
            path,
            int(place[1]) if place and hint else None,
            f"WeasyPrint: {message}",
            hint or "check the chapter's tables, pictures and links near what it names",
        )


def typeset(
    book: Book,
    chapters: tuple[RenderedChapter, ...],
    edition: Edition,
    timestamp: str,
    path,
    cache: PartCache | None = None,
    workers: int = 1,
) -> TypesetBook:
    """Lay out the chapters in order, each on a right-hand page, then the index and front matter.

    path: the fast path (engine.py) or the public one (join.py), which keeps no cache and
    lays everything out here. workers: processes that may lay out chapters side by side.
    """
    with _pool(book, edition, workers if path.parallel else 1, len(chapters)) as pool:
        typesetter = Typesetter(book, edition, path, cache, pool)
        laid_out = lay_out_chapters(typesetter, chapters)
        index = lay_out_index(typesetter, book, laid_out)
        laid_out += (index,) if index else ()
        # The contents need only where each part starts: the front matter is laid out
        # while the index is.
        contents = contents_entries(laid_out)
        progress.step("laying out the contents and the title pages")
        front_html = render_front_matter(book, contents, timestamp)
        front = typesetter.typeset_part("front matter", front_html)
        blank = typesetter.typeset_part("blank page", render_blank_page(book))
        back_cover = (
            typesetter.typeset_part("back cover", render_back_cover(book))
            if edition.back_cover
            else None
        )
        # The body's page 1 must be a right-hand page: the front matter fills whole leaves.
        front_part = front.result()
        runs = [front_part, blank.result()] if len(front_part.pages) % 2 else [front_part]
        front_matter_pages = sum(len(run.pages) for run in runs)
        for part in laid_out:
            runs.append(part.kept)
            if part is not laid_out[-1] and part.last_folio % 2:
                runs.append(blank.result())
        if back_cover:
            runs.append(back_cover.result())
    return TypesetBook(tuple(runs), front_part, front_matter_pages, laid_out, contents)


@contextlib.contextmanager
def _pool(book: Book, edition: Edition, workers: int, chapters: int):
    """Worker processes for the chapters, when there are cores and chapters to share."""
    if min(workers, chapters) < 2 or not can_fork():
        yield None
        return
    from .engine import with_font_files  # the fast path's: only it lays out in workers

    for name in (*STYLESHEETS, *edition.stylesheets):
        for face, _ in carried_faces(book.layout_dir / name):
            unpacked(face)  # once, here: the workers are forked with it
    start_work = functools.partial(_work_in_worker, book, edition)
    with LayoutPool(start_work, min(workers, chapters), received=with_font_files) as pool:
        yield pool


def _work_in_worker(book: Book, edition: Edition):
    """In each worker, once: a typesetter of its own; then the work of each part it is sent.

    The work lays the part out and tells how it came out, then writes it: a laid-out page
    cannot leave the process that made it, the written part can.
    """
    from .engine import FastPath, without_font_files

    typesetter = Typesetter(book, edition, FastPath())
    sent: set[str] = set()  # the font files the build already has from this worker

    def work(item):
        chapter, first_folio, html, start = item
        if chapter is None:  # the index, the front matter: no notes to place
            document, step, moved = typesetter.render(html, first_folio), None, None
        else:
            document, step, moved = typesetter.render_chapter(chapter, first_folio, html, start)
        folios = _folios(document, first_folio or 1, typesetter.path)
        yield Layout(len(document.pages), folios, step, moved)
        part = typesetter.write(document)
        del document  # its pages, before the next chapter's
        yield without_font_files(part, sent)

    return work


def lay_out_chapters(typesetter: Typesetter, chapters) -> tuple[LaidOutPart, ...]:
    """Each chapter from the folio it opens on; again only where a reference's page moved.

    A chapter is resolved with the pages found so far: those of this pass for the chapters
    before it, which are laid out by then, the last pass's for those after it. So only a
    chapter that refers to a later one is laid out again, and only when that page moved.
    """
    printed: dict[str, int] = {}  # figure or linked id -> its folio, as the last pass found it
    layouts: dict = {}  # (html, first folio) -> Task: a chapter is laid out once per input
    linked = linked_elsewhere(chapters)  # ids that links lead to from other chapters
    laid_out: list[LaidOutPart] = []
    for passes in range(MAX_PASSES):
        if passes and typesetter.pool is not None:
            _lay_out_ahead(typesetter, chapters, printed, laid_out, layouts)
        laid_out, folio, found = [], 1, dict(printed)
        resolved = []  # each chapter's HTML, its references filled in
        for chapter in chapters:
            html = resolve_references(chapter, found)
            resolved.append(html)
            if (html, folio) not in layouts:
                again = " again, its references' pages found" if passes else ""
                progress.step(f"laying out {chapter.source.path.name}{again}", pages=folio - 1)
                layouts[html, folio] = typesetter.typeset_chapter(chapter, folio, html)
            typesetter.settle(chapter, layouts[html, folio])
            part = LaidOutPart(
                chapter.headings, chapter.source.number, chapter.marks, folio, layouts[html, folio]
            )
            laid_out.append(part)
            found |= {target: part.folios[target] for target in chapter.targets}
            found |= {target: part.folios[target] for target in linked if target in part.folios}
            folio = _next_right_hand_folio(part.last_folio)
        if not (_refers_elsewhere(chapters) or linked) or all(
            resolve_references(chapter, found) == html
            for chapter, html in zip(chapters, resolved, strict=True)
        ):
            break
        printed = found
    return tuple(laid_out)


def _lay_out_ahead(typesetter: Typesetter, chapters, printed: dict, last: list, layouts: dict):
    """The chapters a pass will lay out again, sent to the workers all at once: each from
    the folio it opened on in the last pass, which holds unless a page count changed."""
    for chapter, part in zip(chapters, last, strict=True):
        html = resolve_references(chapter, printed)
        if (html, part.first_folio) not in layouts:
            progress.step(
                f"laying out {chapter.source.path.name} again, its references' pages found"
            )
            layouts[html, part.first_folio] = typesetter.typeset_chapter(
                chapter, part.first_folio, html
            )


MAX_PASSES = 3  # a reference to a later chapter needs a second pass; a third if pages moved
XREF_LABEL = re.compile(r'<a class="xref" href="#([\w-]+)">([^<]+)</a>')


def resolve_references(chapter: RenderedChapter, folios: dict[str, int]) -> str:
    """A figure (or a link's target) in the same chapter gets its page from CSS; one
    elsewhere, from the last pass."""

    def fill(match):
        target, label = match[1], match[2]
        if target in chapter.targets:
            return f'<a class="xref local" href="#{target}">{label}</a>'
        page = folios.get(target, "?")  # no line break inside "3.1 on" or "page 22"
        return f'<a class="xref" href="#{target}">{label}\u00a0on page\u00a0{page}</a>'

    html = XREF_LABEL.sub(fill, chapter.html)
    return PAGE_LINK_LABEL.sub(lambda match: _with_page(match, folios), html)


#: A link to a place in another chapter, up to its end (render.resolve_links marks the others
#: local: CSS prints their pages).
PAGE_LINK_LABEL = re.compile(
    rf'(<a class="{PAGE_LINK}(?! {LOCAL}\b)[^"]*" href="#([^"]+)"[^>]*>.*?)</a>', re.DOTALL
)


def _with_page(match, folios: dict[str, int]) -> str:
    """The link with the page it leads to, as CSS prints a local one: 'the Gulag (page 41)'."""
    page = folios.get(match[2], "?")
    return f'{match[1]}<span class="link-page"> (page\u00a0{page})</span></a>'


def linked_elsewhere(chapters) -> set[str]:
    """The ids that links in one chapter lead to in another; and those that cross-references
    lead to which are no figure (a glossary's to a key term): their pages are found the same way."""
    return {
        target for chapter in chapters for _, target in PAGE_LINK_LABEL.findall(chapter.html)
    } | {target for chapter in chapters for target, _ in XREF_LABEL.findall(chapter.html)}


def _refers_elsewhere(chapters) -> bool:
    return any(
        target not in chapter.targets
        for chapter in chapters
        for target, _ in XREF_LABEL.findall(chapter.html)
    )


def lay_out_index(typesetter: Typesetter, book: Book, parts) -> LaidOutPart | None:
    """The index, from where every mark landed; laid out last, so nothing before it moves."""
    groups = build_index(book.index_terms, occurrences(parts))
    if not groups:
        return None
    progress.step("laying out the index", pages=parts[-1].last_folio)
    html, _ = render_index(book, groups)  # the document, not the section screens take
    folio = _next_right_hand_folio(parts[-1].last_folio)
    return LaidOutPart(
        (Heading(1, INDEX_ID, "Index"),),
        None,
        (),
        folio,
        typesetter.typeset_part("index", html, folio),
    )


def occurrences(parts) -> list[Occurrence]:
    """Each index mark with the folio of the page it landed on."""
    return [
        Occurrence(mark.heading, mark.sub, mark.id, part.folios[mark.id], str(part.folios[mark.id]))
        for part in parts
        for mark in part.marks
        if mark.id in part.folios
    ]


def _folios(document, first_folio: int, path) -> dict:
    """Element id -> folio of the page it landed on (an index mark: where its words stand)."""
    folios = {anchor: first_folio + index for anchor, index in first_pages(document).items()}
    for index, page in enumerate(document.pages[:-1]):
        for anchor in path.marks_ending_the_page(page, FOLLOWING_WORDS_MARK):
            folios[anchor] = first_folio + index + 1
    return folios


def first_pages(document) -> dict:
    """Each element id and the first page it stands on (an inline can run over a page break)."""
    pages: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            pages.setdefault(anchor, index)
    return pages


@dataclass(frozen=True)
class MisplacedNotes:
    moved: tuple[str, ...]  # notes set on another page than their call
    lost: tuple[str, ...]  # notes set on no page at all

    def __bool__(self) -> bool:
        return bool(self.moved or self.lost)


def misplaced_notes(document) -> MisplacedNotes:
    """The notes of a laid-out document that are not on the page of their call."""
    page_of = first_pages(document)
    notes = {note_call_id(note): note for note in map(note_from_call, page_of) if note}
    lost = tuple(note for note in notes.values() if note not in page_of)
    moved = tuple(
        note for call, note in notes.items() if note in page_of and page_of[note] != page_of[call]
    )
    return MisplacedNotes(moved, lost)


#: Where a note's text starts in the chapter's HTML; the words it opens with.
NOTE_TEXT = '<span class="footnote[^"]*" id="{}">(.{{0,400}})'
PLAIN_WORDS = re.compile(r"[^\W_][\w ,.;:()-]*")
#: Markdown's emphasis and links, as the note's rendered words read without them.
MARKUP = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)|[*_`]+")


def note_definition(source: ChapterSource, html: str, note: str) -> tuple[int | None, str]:
    """The line of the chapter where a note is written, and the note named as the teacher
    wrote it: [^label] and its opening words. Layout knows a note only by the id the book
    gave it; its opening words find it among the chapter's footnote definitions."""
    found = re.search(NOTE_TEXT.format(re.escape(note)), html, re.S)
    text = plain_text(found[1].split("</span>", 1)[0]) if found else ""
    opening = PLAIN_WORDS.match(text)
    words = opening[0].strip() if opening else ""
    if len(words) > 30:
        words = words[:30].rsplit(" ", 1)[0]
    shown = f' ("{text[:40].rstrip()}{"…" if len(text) > 40 else ""}")' if text else ""
    for number, line in numbered_lines(source.body, source.body_line):
        definition = FOOTNOTE_DEFINITION.match(line)
        if definition and words and words in MARKUP.sub(lambda markup: markup[1] or "", line):
            return number, f"the footnote [^{definition['label']}]{shown}"
    # A web address printed as a note (web_links: footnote) has no definition: its line.
    return (source.line_naming(text[:40]) if text else None), f"a footnote{shown}"


def note_from_call(anchor: str) -> str | None:
    note = anchor.removesuffix("_call")
    return note if note != anchor and NOTE_ID.fullmatch(note) else None


def _line_of(source, url: str) -> int | None:
    """The line of the chapter that names the URL (or its last part)."""
    from urllib.parse import unquote

    return source.line_naming(url, unquote(url), unquote(url).rsplit("/", 1)[-1])


def _next_right_hand_folio(last_folio: int) -> int:
    # Right-hand pages carry odd folios; a chapter ending on one leaves a blank left page.
    return last_folio + 1 if last_folio % 2 == 0 else last_folio + 2


def contents_entries(laid_out) -> tuple[ContentsEntry, ...]:
    """The contents, from where each part starts (its title opens its first page) and where
    its sections landed: the index, which lists no sections, need not be laid out yet."""

    def folio_of(part):
        return lambda heading: str(
            part.first_folio if heading is part.headings[0] else part.folios[heading.id]
        )

    return tuple(contents_entry(part.headings, part.number, folio_of(part)) for part in laid_out)
