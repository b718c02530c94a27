"""The frozen records that pass from one stage of the pipeline to the next."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAPER_SIZES = ("a4", "letter")
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3u")
TEACHER_BLOCK = "teacher"  # ::: teacher … ::: is in the teacher's edition only

#: Set to 1 in the environment (or pass --public-path) to build by WeasyPrint's documented API only.
PUBLIC_PATH_VARIABLE = "BOOKPRESS_PUBLIC_PATH"


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    paper: str = "a4"
    output: Path | None = None  # the reading edition; defaults to <build_dir>/book.pdf
    build_dir: Path | None = None  # defaults to <project>/build
    strict: bool = False  # warnings are errors
    bleed: str | None = None  # e.g. "3mm", for a print shop
    crop_marks: bool = False
    timeout: int = 600  # seconds one product's layout may take
    pdf_variant: str | None = "pdf/ua-1"  # tagged and accessible; pdf/a-3u for archives
    jobs: int | None = None  # processes laying out a product's chapters; None: one per core
    public_path: bool = False  # build with WeasyPrint's documented API only (join.py), slower


@dataclass(frozen=True)
class Edition:
    """One way of laying the book out: its page, its extra stylesheets, what it includes."""

    paper: str = "a4"
    teacher: bool = False  # with the teacher's notes
    large_print: bool = False
    back_cover: bool = False
    bleed: str | None = None
    crop_marks: bool = False
    pdf_variant: str | None = "pdf/ua-1"
    css: tuple[str, ...] = ()  # the product's own stylesheets in layout/, laid over the paper's

    @property
    def stylesheets(self) -> tuple[str, ...]:
        """The stylesheets of layout/ laid over book.css, in order."""
        return (f"paper-{self.paper}.css", *self.css)

    @property
    def dropped_blocks(self) -> frozenset[str]:
        return frozenset() if self.teacher else frozenset({TEACHER_BLOCK})


#: How print shows a link's web address (book.yml's web_links): in a footnote at the foot of
#: the page, in brackets after the link's text, or not at all.
WEB_LINK_FORMS = ("footnote", "after", "none")


#: The sheets one fold and two staples hold, unless book.yml's booklet_sheets says more.
BOOKLET_SHEETS = 16


@dataclass(frozen=True)
class BookInfo:
    """The book-wide facts from chapters/book.yml."""

    title: str
    subtitle: str
    author: str
    lang: str
    edition: str
    date: datetime.date
    licence: str
    subject: str
    keywords: tuple[str, ...]
    series: str = ""  # the line above the title on the cover, e.g. "A classroom booklet"
    attribution: str = ""  # the credit owed to material it adapts, printed in the imprint
    web_links: str = "footnote"  # how print shows a web address: one of WEB_LINK_FORMS
    target_grade: float | None = None  # the reading level aimed at (Flesch–Kincaid), if any
    booklet_sheets: int = BOOKLET_SHEETS  # the most sheets of the fold-and-staple booklet


@dataclass(frozen=True)
class ChapterSource:
    """One chapter file, read and checked, before any Markdown is converted."""

    path: Path
    slug: str
    title: str
    running_head: str
    number: int | None  # None for unnumbered chapters (introduction, back matter)
    body: str
    body_line: int  # line of the file where the Markdown body starts
    template: str | None = None
    data: Any = None  # the loaded data file the template renders
    data_path: Path | None = None
    figures: tuple = ()  # (source as written, FigureData) of the figures drawn from data
    caption: str | None = None  # of the table or figure the chapter's template draws
    # The TimelineEvents of the book's timeline tagged with this chapter, in date order.
    key_dates: tuple = ()

    def line_naming(self, *needles: str) -> int | None:
        """The first line of the body that holds one of the needles, to point the teacher there."""
        for number, line in enumerate(self.body.split("\n"), start=self.body_line):
            if any(needle and needle in line for needle in needles):
                return number
        return None


@dataclass(frozen=True)
class Book:
    """Everything the sources say, checked, in reading order."""

    root: Path
    info: BookInfo
    chapters: tuple[ChapterSource, ...]
    index_terms: tuple = ()  # IndexTerm, from chapters/index.yml

    @property
    def layout_dir(self) -> Path:
        return self.root / "layout"


@dataclass(frozen=True)
class Heading:
    """A heading of a chapter: level 1 is the chapter title."""

    level: int
    id: str
    title: str


@dataclass(frozen=True)
class IndexMark:
    """A place in a chapter that the index points to: an element id and what it indexes."""

    id: str
    heading: str
    sub: str | None = None


@dataclass(frozen=True)
class RenderedChapter:
    """A chapter as a standalone HTML document, and the headings it contains."""

    source: ChapterSource
    html: str  # the standalone document the chapter is laid out from
    section: str  # the chapter's <section>, for the whole-book document
    headings: tuple[Heading, ...]
    marks: tuple[IndexMark, ...] = ()
    targets: tuple[str, ...] = ()  # ids of the figures the chapter holds, for cross-references


@dataclass(frozen=True)
class ContentsEntry:
    """A line of the contents: a heading and the printed folio it landed on."""

    heading: Heading
    folio: str
    number: int | None = None
    children: tuple[ContentsEntry, ...] = field(default=())


CONTENTS_LEVEL = 2  # the contents lists chapters and their second-level headings


def contents_entry(headings: tuple[Heading, ...], number: int | None, folio_of) -> ContentsEntry:
    """A part's line of the contents (its first heading), with its sections under it."""
    title, *sections = headings
    return ContentsEntry(
        title,
        folio_of(title),
        number,
        tuple(ContentsEntry(h, folio_of(h)) for h in sections if h.level == CONTENTS_LEVEL),
    )
