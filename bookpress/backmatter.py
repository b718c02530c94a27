"""Render stage: the back matter the book makes from its own chapters (glossary, picture credits).

Each generated part is a RenderedChapter after the last chapter, so it flows wherever the
chapters flow: the typeset passes, the contents and bookmarks, the web edition and the EPUB.
Its page numbers are cross-references (<a class="xref">), which typeset prints as
"Chapter 2 on page 9" once a pass has found the pages, and the screen editions as the printed
pages; generated parts come after the real chapters, so handouts (one per chapter) leave
them out.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from markupsafe import Markup

from .errors import warn
from .extensions import KEY_TERM, KEY_TERMS_HEADING, IdRegistry
from .index import sort_key
from .model import Book, ChapterSource, Heading, RenderedChapter
from .pictures import picture_credits
from .sources import numbered_lines
from .templates import numbered_blocks, render_template

GLOSSARY = ("glossary", "Glossary", "glossary.html")  # slug and title id, title, template
CREDITS = ("picture-credits", "Picture credits", "credits.html")


def back_matter(
    book: Book, chapters, registry: IdRegistry, environment
) -> tuple[RenderedChapter, ...]:
    """The glossary and the picture-credits page, each only when it has entries.

    chapters: the rendered chapters, their figure references filled; registry: the book's
    ids, so the parts' ids are unique across the book, in print and on screens alike.
    """
    parts = []
    entries = glossary_entries(book, chapters)
    if entries:
        parts.append(_part(book, GLOSSARY, {"entries": entries}, registry, environment))
    credits = [credit for chapter in chapters for credit in figure_credits(chapter.section)]
    if credits:
        parts.append(_part(book, CREDITS, {"credits": credits}, registry, environment))
    return tuple(parts)


def _part(
    book: Book, kind: tuple[str, str, str], context: dict, registry: IdRegistry, environment
) -> RenderedChapter:
    """A generated part as a chapter: a document of its own and its <section>."""
    slug, title, template = kind
    # Its template stands for its source: a warning about the part points there.
    source = ChapterSource(
        path=book.layout_dir / template,
        slug=slug,
        title=title,
        running_head=title,
        number=None,
        body="",
        body_line=1,
    )
    title_id = registry.claim(slug)
    context = {"book": book.info, "chapter": source, "title_id": title_id, **context}
    section = numbered_blocks(render_template(environment, template, context), title_id)
    html = render_template(environment, "chapter.html", {**context, "section": Markup(section)})
    return RenderedChapter(
        source=source, html=html, section=section, headings=(Heading(1, title_id, title),)
    )


# --- The glossary: every chapter's key terms ----------------------------------------------------


@dataclass(frozen=True)
class KeyTerm:
    """A key term as a chapter defines it: the item's id, the term and its definition (HTML)."""

    id: str
    term: Markup
    definition: Markup
    place: str  # what the glossary names before the page: "Chapter 2", or a running head
    path: Path
    line: int | None

    @property
    def words(self) -> str:
        return plain_text(self.term)

    @property
    def meaning(self) -> str:
        """The definition's words, as compared: the same words twice are one definition."""
        return plain_text(self.definition).rstrip(".").casefold()


def glossary_entries(book: Book, chapters) -> list[KeyTerm]:
    """Each term once, sorted as the index is; a term defined again in other words is a warning."""
    first: dict[str, KeyTerm] = {}
    for chapter in chapters:
        for term in key_terms(chapter):
            name = " ".join(term.words.casefold().split())
            kept = first.setdefault(name, term)
            if kept is not term and kept.meaning != term.meaning:
                where = _place(book, kept)
                warn(
                    term.path,
                    term.line,
                    f"the key term '{term.words}' is defined here in other words than at {where}",
                    f"define it once: remove it here, or repeat the words of {where} exactly",
                )
    return sorted(first.values(), key=lambda term: (sort_key(term.words), term.words))


def _place(book: Book, term: KeyTerm) -> str:
    path = term.path.relative_to(book.root) if term.path.is_relative_to(book.root) else term.path
    return f"{path}:{term.line}" if term.line else str(path)


#: A key term's list item as extensions.KeyTermTreeprocessor marks it (the allow-list keeps
#: id and class); its text up to the item's end (an item holds no list of its own).
KEY_TERM_ITEM = re.compile(
    rf'<li\b(?=[^>]*\bclass="[^"]*\b{KEY_TERM}\b)([^>]*)>(.*?)</li>', re.DOTALL
)
ITEM_ID = re.compile(r'\sid="([^"]+)"')
#: The bold term that opens the item, and the dash or colon between it and its definition.
TERM_AND_DEFINITION = re.compile(
    r"^\s*(?:<p>)?\s*(<em>\s*)?<strong>(.*?)</strong>(\s*</em>)?"
    r"\s*(?:[\u2014\u2013:-]|&mdash;|&ndash;)?\s*(.*?)\s*(?:</p>)?\s*$",
    re.DOTALL,
)


def key_terms(chapter: RenderedChapter) -> list[KeyTerm]:
    """The chapter's key terms, in the order it lists them, each with its line in the source."""
    lines = key_term_lines(chapter.source)
    place = (
        f"Chapter {chapter.source.number}" if chapter.source.number else chapter.source.running_head
    )
    terms = []
    for number, item in enumerate(KEY_TERM_ITEM.finditer(chapter.section)):
        found = TERM_AND_DEFINITION.match(item[2])
        if found is None:
            continue
        term = ("<em>" if found[1] else "") + found[2] + ("</em>" if found[3] else "")
        line = lines[number] if number < len(lines) else None
        terms.append(
            KeyTerm(
                _item_id(item[1]),
                Markup(copied(term)),
                Markup(copied(found[4])),
                place,
                chapter.source.path,
                line,
            )
        )
    return terms


#: A Markdown heading "Key terms" (any level), and the items of the list below it.
KEY_TERMS_LINE = re.compile(rf"^ {{0,3}}#{{1,6}}[ \t]+{KEY_TERMS_HEADING}[ \t#]*$", re.IGNORECASE)
ITEM_LINE = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
LIST_ENDS = re.compile(r"^ {0,3}(?:#|:::|</)")


def key_term_lines(source: ChapterSource) -> list[int]:
    """The line of each item of the chapter's key-terms lists, in order.

    Python-Markdown keeps no lines: the raw text is read again, as the load stage's checks do.
    """
    lines, in_list = [], False
    for number, line in numbered_lines(source.body, source.body_line):
        if KEY_TERMS_LINE.match(line):
            in_list = True
        elif in_list and LIST_ENDS.match(line):
            in_list = False
        elif in_list and ITEM_LINE.match(line):
            lines.append(number)
    return lines


# --- Copying a chapter's HTML into the back matter ----------------------------------------------

#: Elements left out of a copy with what they hold: a note stays with its call, in its chapter.
NOT_COPIED = {"footnote"}


class _Copy(HTMLParser):
    """HTML copied without its ids (each stands once in the book), index marks, notes or links."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.open: list[bool] = []  # for each open element: whether its tags are copied
        self.skipping = 0  # depth inside an element left out with its content

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if self.skipping or classes & NOT_COPIED:
            self.skipping += 1
            return
        kept = not (tag == "a" or (tag == "span" and "ix" in classes))  # their words stay
        self.open.append(kept)
        if kept:
            shown = "".join(
                f' {name}="{htmllib.escape(value or "")}"' for name, value in attrs if name != "id"
            )
            self.out.append(f"<{tag}{shown}>")

    def handle_endtag(self, tag):
        if self.skipping:
            self.skipping -= 1
            return
        if self.open and self.open.pop():
            self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(data)

    def handle_entityref(self, name):
        self.handle_data(f"&{name};")

    def handle_charref(self, name):
        self.handle_data(f"&#{name};")


def copied(html: str) -> str:
    """A piece of a chapter's HTML as the back matter prints it again (see _Copy)."""
    parser = _Copy()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


def plain_text(html: str) -> str:
    """The words of a piece of HTML, on one line."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]*>", "", html)).split())


# --- Picture credits ----------------------------------------------------------------------------

#: A figure that carries its credit (data-credit="Creator, Source, Licence"): a picture, as
#: pictures.picture_credits reads it, or a figure drawn from data that has one (a map).
CREDITED_FIGURE = re.compile(
    r'<figure\b([^>]*\sdata-credit="([^"]*)"[^>]*)>(.*?)</figure>', re.DOTALL
)
FIGURE_LABEL = re.compile(r'<span class="figure-label">\s*([^<]*?)\.?\s*</span>')


def figure_credits(html: str) -> list[tuple[str, str, str]]:
    """(figure id, "Figure N", credit) of each credited figure of the HTML, in reading order.

    The pictures are pictures.picture_credits's; the other figures are read from the same
    markup. A figure without a credit has no line.
    """
    found = {
        figure_id: (figure_id, label, credit) for figure_id, label, credit in picture_credits(html)
    }
    for figure in CREDITED_FIGURE.finditer(html):
        figure_id, label = ITEM_ID.search(figure[1]), FIGURE_LABEL.search(figure[3])
        if figure_id and label:
            found.setdefault(
                htmllib.unescape(figure_id[1]),
                (
                    htmllib.unescape(figure_id[1]),
                    htmllib.unescape(label[1]).strip(),
                    htmllib.unescape(figure[2]),
                ),
            )
    credited = [
        (figure_id, label, " ".join(credit.split()))
        for figure_id, label, credit in found.values()
        if credit.strip()
    ]
    return sorted(credited, key=lambda credit: html.find(f' id="{htmllib.escape(credit[0])}"'))


def _item_id(item: str) -> str:
    found = ITEM_ID.search(item)
    assert found is not None, item  # every key term's item has its id
    return found[1]
