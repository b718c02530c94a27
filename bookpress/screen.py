"""Screen stage: the chapters for screens, with the printed book's page numbers in them.

The web edition and the EPUB are made from one ScreenBook. Each is read beside the printed
reading edition in class ("turn to page 9"), so each marks where the printed pages begin,
and its contents, index and cross-references give the printed pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .index import build_index
from .model import Book, BookInfo, ContentsEntry, RenderedChapter
from .render import render_chapters, render_index
from .templates import BLOCK_START


@dataclass(frozen=True)
class PageBreak:
    """Where a printed page begins in a screen edition."""

    label: str  # the folio printed on the page, "9"
    id: str  # the marker's id, "page-9"
    chapter: int  # the chapter (its place in ScreenBook.chapters) that holds the marker


@dataclass(frozen=True)
class ScreenBook:
    """The book as screens show it, numbered as the printed reading edition is."""

    info: BookInfo
    chapters: tuple[
        RenderedChapter, ...
    ]  # rendered for screens: each .section carries page markers
    contents: tuple[ContentsEntry, ...]  # with the printed folios
    index_section: str  # the index, its locators the printed pages (links to the chapters' ids)
    pages: tuple[PageBreak, ...]  # every page marker, in reading order
    page_source: str  # the edition the page numbers are of, "the A4 reading edition (book.pdf)"


def screen_book(book: Book, typeset_book, page_source: str) -> ScreenBook:
    """The chapters for screens, marked with the pages the reading edition put them on.

    typeset_book: the laid-out reading edition (typeset.TypesetBook), whose parts know the
    folio of every element id; the screen rendering gives its blocks the same ids.
    """
    from .typeset import occurrences  # the typeset stage has run: importing it costs nothing

    folios = {anchor: folio for part in typeset_book.parts for anchor, folio in part.folios.items()}
    chapters, pages = [], []
    for number, chapter in enumerate(render_chapters(book, for_screen=True)):
        section, found = marked_pages(with_printed_pages(chapter.section, folios), folios, number)
        chapters.append(replace(chapter, section=section))
        pages += found
    _, index_section = render_index(
        book, build_index(book.index_terms, occurrences(typeset_book.parts))
    )
    return ScreenBook(
        book.info, tuple(chapters), typeset_book.contents, index_section, tuple(pages), page_source
    )


#: A cross-reference as the figures stage writes it, its label not yet given a page.
XREF_TAG = re.compile(r'<a class="xref" href="#([^"]+)">[^<]+</a>')


def with_printed_pages(section: str, folios: dict[str, int]) -> str:
    """Cross-references with the printed page, as the book prints them: "Figure 2.1 on page 9"."""

    def page(match: re.Match) -> str:
        folio = folios.get(match[1])
        return match[0] if folio is None else f"{match[0][:-4]}\u00a0on page\u00a0{folio}</a>"

    return XREF_TAG.sub(page, section)


#: An element id the layout reported, at the start tag of a block.
_BLOCK_ID = re.compile(r'\sid="([^"]+)"')
#: Blocks whose page marker goes inside, as their first child: a list item, a term or a
#: definition, a table row (in its first cell); a marker cannot stand between them.
_MARKED_INSIDE = {"li", "dt", "dd", "tr"}
_FIRST_CELL = re.compile(r"<t[dh]\b[^>]*>")


def marked_pages(section: str, folios: dict[str, int], chapter: int) -> tuple[str, list[PageBreak]]:
    """The section with a marker where each printed page begins, and those pages.

    A page is marked at the first block that begins on it; a page that a block began
    before (a long paragraph running over it) has no marker, and the next one follows.
    """
    pages: list[PageBreak] = []
    last = 0
    pieces, position = [], 0
    for match in BLOCK_START.finditer(section):
        found = _BLOCK_ID.search(match[2])
        folio = folios.get(found[1]) if found else None
        if folio is None or folio <= last:
            continue
        last = folio
        page = PageBreak(str(folio), f"page-{folio}", chapter)
        pages.append(page)
        marker = (
            f'<span class="page-break" role="doc-pagebreak" id="{page.id}" '
            f'aria-label="{page.label}"></span>'
        )
        if match[1] not in _MARKED_INSIDE:
            pieces += [section[position : match.start()], marker]
            position = match.start()
        elif match[1] == "tr":
            cell = _FIRST_CELL.search(section, match.end())
            at = cell.end() if cell else match.end()
            pieces += [section[position:at], marker]
            position = at
        else:
            pieces += [section[position : match.end()], marker]
            position = match.end()
    pieces.append(section[position:])
    return "".join(pieces), pages
