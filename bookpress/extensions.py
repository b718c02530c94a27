"""Markdown stage: the Python-Markdown extensions the chapters are written with."""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markdown import Extension
from markdown.blockprocessors import BlockProcessor, BlockQuoteProcessor
from markdown.extensions.footnotes import NBSP_PLACEHOLDER
from markdown.extensions.md_in_html import (
    HtmlBlockPreprocessor,
    HTMLExtractorExtra,
    MarkdownInHtmlExtension,
)
from markdown.extensions.toc import render_inner_html, strip_tags
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE, AtomicString, nearing_recursion_limit
from pygments.formatters.html import HtmlFormatter
from pygments.token import Token

from .figures import CROSS_REFERENCE
from .index import IndexTerm, parse_mark
from .model import Heading, IndexMark
from .sources import numbered_lines

HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}


# --- Fenced blocks: ::: name ... ::: --------------------------------------------------------


class FencedBlockProcessor(BlockProcessor):
    """Turns a block fenced by ``::: name`` and ``:::`` into ``<div class="name">``.

    The content between the fences is ordinary Markdown, so key-term boxes and other
    callouts stay readable in the plain source.
    """

    START = re.compile(r"^:::[ ]*([A-Za-z][\w-]*)[ ]*(?:\n|$)")
    END = re.compile(r"(?:^|\n):::[ ]*(?:\n|$)")

    def __init__(self, parser, dropped: frozenset[str] = frozenset()):
        super().__init__(parser)
        self.dropped = dropped  # blocks left out of this edition, e.g. teacher's notes

    def test(self, parent, block):
        return bool(self.START.match(block))

    def run(self, parent, blocks):
        first = blocks[0]
        start = self.START.match(first)
        assert start is not None  # test() found it
        name = start.group(1)
        blocks[0] = first[start.end() :]
        for index, block in enumerate(blocks):
            end = self.END.search(block)
            if end:
                blocks[index] = block[: end.start()]
                rest = block[end.end() :]
                # A dropped block is parsed into a detached element: none of its text, ids
                # or index marks reach the document.
                div = (
                    etree.Element("div")
                    if name in self.dropped
                    else etree.SubElement(parent, "div", {"class": name})
                )
                inner = blocks[: index + 1]
                del blocks[: index + 1]
                if rest.strip():
                    blocks.insert(0, rest)
                self.parser.parseBlocks(div, [b for b in inner if b.strip()])
                return True
        # No closing fence: leave the text as it is, the checks report it.
        blocks[0] = first
        return False


class FencedBlockExtension(Extension):
    def __init__(self, dropped=frozenset(), **kwargs):
        self.dropped = frozenset(dropped)
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        # Before paragraphs and lists, after nothing that could start with ':::'.
        md.parser.blockprocessors.register(
            FencedBlockProcessor(md.parser, self.dropped), "fenced_block", 105
        )


# --- Footnotes at the foot of the page -------------------------------------------------------


class PageFootnoteTreeprocessor(Treeprocessor):
    """Moves each footnote's text to where it is called, as ``<span class="footnote">``.

    The footnotes extension collects notes in a list at the end of the document; CSS paged
    media (``float: footnote``) needs the note's text at its call to set it at the foot of
    the page the call lands on.
    """

    def __init__(self, md, registry: IdRegistry):
        super().__init__(md)
        self.registry = registry

    def run(self, root):
        notes_div = next((div for div in root.iter("div") if div.get("class") == "footnote"), None)
        if notes_div is None:
            return
        notes = {li.get("id"): li for li in notes_div.iter("li")}
        for parent in list(root.iter()):
            for sup in [
                child
                for child in parent
                if child.tag == "sup" and child.get("id", "").startswith("fnref")
            ]:
                link = sup.find("a")
                note = notes.get((link.get("href") or "#")[1:]) if link is not None else None
                if note is not None:
                    self._set_note(parent, sup, self._note_span(note))
        root.remove(notes_div)

    @staticmethod
    def _note_span(li):
        for holder in list(li.iter()):
            for backref in [a for a in holder if a.get("class") == "footnote-backref"]:
                holder.remove(backref)
        span = etree.Element("span", {"class": "footnote"})
        paragraphs = [p for p in li if p.tag == "p"] or [li]
        for paragraph in paragraphs:
            part = (
                span
                if paragraph is paragraphs[0]
                else etree.SubElement(span, "span", {"class": "footnote-part"})
            )
            part.text = paragraph.text
            part.extend(list(paragraph))
        for element in span.iter():
            element.text = _drop_placeholder(element.text)
            element.tail = _drop_placeholder(element.tail)
        return span

    def _set_note(self, parent, sup, span):
        """Put the note where it is called, after an empty anchor that marks the call.

        The call's anchor and the note's id land on the same page when the note is set
        right; the tests read both back from the PDF.
        """
        note_id = self.registry.next_note_id()
        span.set("id", note_id)
        call = etree.Element("a", {"class": "note-call", "id": note_call_id(note_id)})
        index = list(parent).index(sup)
        span.tail = sup.tail
        parent.remove(sup)
        parent.insert(index, span)
        parent.insert(index, call)


def _drop_placeholder(text):
    return text.replace(NBSP_PLACEHOLDER, "") if text else text


class PageFootnoteExtension(Extension):
    def __init__(self, registry: IdRegistry, **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # After the footnotes extension has built and ordered its list (priorities 50..15).
        md.treeprocessors.register(
            PageFootnoteTreeprocessor(md, self.registry), "page_footnotes", 14
        )


# --- Heading ids unique across the whole book ------------------------------------------------

NOTE_ID = re.compile(r"note_\d+")
#: A footnote's call, [^label], and its definition, [^label]: its text, as Markdown writes them.
FOOTNOTE_CALL = re.compile(r"\[\^(?P<label>[^\]]+)\]")
FOOTNOTE_DEFINITION = re.compile(r"\s*\[\^(?P<label>[^\]]+)\]:")


def note_call_id(note_id: str) -> str:
    """The id of the empty anchor that marks where a note is called."""
    return f"{note_id}_call"


def slugify(text: str) -> str:
    """An id from a heading's words: ASCII, lower case, hyphens between words."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words) or "section"


class IdRegistry:
    """The ids already given out in this book, so that every heading's and note's id is unique.

    Python-Markdown's toc extension makes ids unique within one document only; a book
    is laid out from several, joined into one PDF whose links need book-wide ids.
    """

    def __init__(self):
        self.used: set[str] = set()
        self.headings: list[Heading] = []
        self.marks: list[IndexMark] = []
        self.notes = 0
        self.mark_count = 0

    def claim(self, wanted: str) -> str:
        candidate, suffix = wanted, 1
        while candidate in self.used:
            suffix += 1
            candidate = f"{wanted}-{suffix}"
        self.used.add(candidate)
        return candidate

    def start_document(self) -> None:
        """Begin a chapter: its headings and marks are collected afresh, its ids stay unique."""
        self.headings = []
        self.marks = []

    def mark(self, element, heading: str, sub: str | None = None):
        """Make element an index mark: give it an id and record what it indexes."""
        self.mark_count += 1
        element.set("class", "ix")
        element.set("id", self.claim(f"ix_{self.mark_count}"))
        self.marks.append(IndexMark(element.get("id"), heading, sub))
        return element

    def next_note_id(self) -> str:
        """note_1, note_2, … across the book; slugs never hold '_', so no heading takes one."""
        self.notes += 1
        note_id = self.claim(f"note_{self.notes}")
        self.used.add(note_call_id(note_id))
        return note_id


class HeadingIdTreeprocessor(Treeprocessor):
    """Gives each heading a book-wide unique id and records it for contents and outline."""

    def __init__(self, md, registry: IdRegistry):
        super().__init__(md)
        self.registry = registry

    def run(self, root):
        for element in root.iter():
            level = HEADING_TAGS.get(element.tag)
            if level is None:
                continue
            # As the toc extension does: the heading's text after smart quotes and entities.
            title = " ".join(html.unescape(strip_tags(render_inner_html(element, self.md))).split())
            wanted = element.get("id") or slugify(title)
            element.set("id", self.registry.claim(wanted))
            self.registry.headings.append(Heading(level, element.get("id"), title))


#: The level of a chapter's sections (Markdown ##): h3, under the book's h1 (its title) and the
#: chapter's h2 (its title).
SECTION_LEVEL = 3


class HeadingLevelTreeprocessor(Treeprocessor):
    """Sets each heading one level below where Markdown puts it: ## (a section) becomes <h3>.

    The book has one h1, its title, and each chapter's title is an h2 (layout/_chapter.html),
    so that a screen reader's list of headings has no gap (PDF/UA, Matterhorn 14). A box
    (``::: review``, an alert, any <div class="…">) holds its headings at section level
    whatever Markdown level they are written at: "Key terms" (###) is a heading beside the
    chapter's sections, not one under its last section. Heading.level keeps the Markdown
    level, by which the contents and the outline are made.
    """

    def run(self, root):
        self._shift(root, 1)

    def _shift(self, element, shift: int) -> None:
        for child in element:
            level = HEADING_TAGS.get(child.tag)
            if level is not None:
                child.tag = f"h{min(6, max(2, level + shift))}"
            elif child.tag == "div" and child.get("class"):
                # Levels as written, read before any heading of the box is moved.
                levels = [
                    HEADING_TAGS[inner.tag] for inner in child.iter() if inner.tag in HEADING_TAGS
                ]
                self._shift(child, SECTION_LEVEL - min(levels) if levels else shift)
            else:
                self._shift(child, shift)


class HeadingIdExtension(Extension):
    def __init__(self, registry: IdRegistry, **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # After attr_list (8), so that an id written as {#id} is kept, and after smarty (6),
        # so that titles carry the same curly quotes as the page.
        md.treeprocessors.register(HeadingIdTreeprocessor(md, self.registry), "book_heading_ids", 1)
        # Last: every other processor (ids, links, index terms) reads the levels as written.
        md.treeprocessors.register(HeadingLevelTreeprocessor(md), "book_heading_levels", 0)


# --- Index marks: [words]{^}, [words]{^Heading; sub}, {^Heading; sub} ------------------------

INDEX_MARK = (
    r"\[(?P<text>[^\]\n]+)\]\{\^(?P<target>[^}\n]*)\}"
    r"|\{\^(?P<hidden>[^}\n]*)\}"
)


class IndexMarkInlineProcessor(InlineProcessor):
    """``[the secret police]{^NKVD}`` indexes the words under a heading; ``{^Heading}``, a spot."""

    def __init__(self, registry: IdRegistry):
        super().__init__(INDEX_MARK)
        self.registry = registry

    def handleMatch(self, match, data):  # type: ignore[override]  # as InlineProcessor's stub
        if match.group("text") is not None:
            element = etree.Element("span")
            element.text = match.group("text")
            target = match.group("target").strip() or match.group("text")
        else:
            element, target = etree.Element("a"), match.group("hidden")
        heading, sub = parse_mark(target)
        return self.registry.mark(element, heading, sub), match.start(0), match.end(0)


class IndexMarkExtension(Extension):
    def __init__(self, registry: IdRegistry, **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        # Before links (160), so that [words]{^...} is never read as a link reference.
        md.inlinePatterns.register(IndexMarkInlineProcessor(self.registry), "index_mark", 185)


# --- Terms of index.yml, indexed wherever they stand in the text -----------------------------

#: The class of an index anchor that marks the words after it (not the text before it).
FOLLOWING_WORDS_MARK = "ix ix-next"
#: Elements whose text is never indexed automatically.
NOT_INDEXED = {"h1", "h2", "h3", "h4", "h5", "h6", "a", "code", "pre"}


def term_pattern(terms: tuple[IndexTerm, ...]) -> tuple[re.Pattern | None, dict[str, str]]:
    """One pattern for every form of every term, longest first, and the heading of each form.

    A form with a capital letter matches only as written (names); a lower-case form also
    matches with a capital first letter, as at the start of a sentence.
    """
    heading_of: dict[str, str] = {}
    for term in terms:
        if term.see is None:
            for form in term.forms:
                heading_of[form] = term.heading
                if form == form.lower():
                    heading_of[form[:1].upper() + form[1:]] = term.heading
    if not heading_of:
        return None, heading_of
    alternatives = "|".join(re.escape(form) for form in sorted(heading_of, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), heading_of


class AutoIndexTreeprocessor(Treeprocessor):
    """Wraps each occurrence of a term of index.yml in an index mark."""

    def __init__(self, md, registry: IdRegistry, terms: tuple[IndexTerm, ...]):
        super().__init__(md)
        self.registry = registry
        self.pattern, self.heading_of = term_pattern(terms)

    def run(self, root):
        if self.pattern is not None:
            self._index(root)

    def _index(self, element):
        if element.tag in NOT_INDEXED or element.get("class", "").startswith("ix"):
            return
        children = list(element)  # before marks are added: their tails are already indexed
        pieces = self._marked(element.text)
        if pieces:
            element.text = pieces[0]
            for offset, mark in enumerate(pieces[1:]):
                element.insert(offset, mark)
        for child in children:
            self._index(child)
            pieces = self._marked(child.tail)
            if pieces:
                child.tail = pieces[0]
                position = list(element).index(child) + 1
                for offset, mark in enumerate(pieces[1:]):
                    element.insert(position + offset, mark)

    def _marked(self, text):
        """[text before the first match, mark, mark, …], each mark's tail set; None if no match."""
        if not text or self.pattern is None or not self.pattern.search(text):
            return None
        # An empty anchor, not a span around the words, glued to the end of the word before
        # them ('region a<a/> quota'): WeasyPrint 70 breaks a line too early when the break
        # would fall just before an inline box, taken as a word of its own (see WeasyPrint
        # issue #1614). The typeset stage moves an anchor that ends a page's last line to
        # the next page, where its words are.
        pieces: list[Any] = [None]  # the text before the first mark, then the marks
        position = 0
        for match in self.pattern.finditer(text):
            start = match.start()
            while start > position and text[start - 1].isspace():
                start -= 1
            if pieces[-1] is None:
                pieces[0] = text[:start]
            else:
                pieces[-1].tail = text[position:start]
            mark = self.registry.mark(etree.Element("a"), self.heading_of[match.group(0)])
            mark.set("class", FOLLOWING_WORDS_MARK)
            pieces.append(mark)
            position = start
        pieces[-1].tail = text[position:]
        return pieces


class AutoIndexExtension(Extension):
    def __init__(self, registry: IdRegistry, terms: tuple[IndexTerm, ...], **kwargs):
        self.registry = registry
        self.terms = terms
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        # After inline patterns (20) and attribute lists (8), before smarty (6): terms are
        # matched against the text as written, with straight quotes.
        md.treeprocessors.register(
            AutoIndexTreeprocessor(md, self.registry, self.terms), "auto_index", 7
        )


# --- Cross-references: {@timeline} ------------------------------------------------------------


class CrossReferenceInlineProcessor(InlineProcessor):
    """``{@timeline}`` becomes a link to that figure; render and typeset add its number and page."""

    def handleMatch(self, match, data):  # type: ignore[override]  # as InlineProcessor's stub
        element = etree.Element("a", {"class": "xref", "href": "#" + match.group("id")})
        element.text = match.group("id")
        return element, match.start(0), match.end(0)


class CrossReferenceExtension(Extension):
    def extendMarkdown(self, md):
        md.inlinePatterns.register(
            CrossReferenceInlineProcessor(CROSS_REFERENCE.pattern), "cross_reference", 186
        )


# --- Links: to other chapters, to places in the book, to the web -------------------------------

#: Links a reader can follow from the page: kept, and printed so that they can be typed.
WEB_SCHEMES = ("http", "https", "mailto")
#: The class of a link to a place in the book: print adds the page it leads to.
PAGE_LINK = "page-link"
#: The placeholder href of a link to another chapter until every chapter's ids are known.
#: Slugs hold no '_', so it is never a heading's id.
CHAPTER_LINK = "link_{}"
#: Links the book makes itself, and leaves as they are.
OWN_LINKS = {"xref", "note-call", "footnote-ref", "footnote-backref", "url"}
#: What sites written in Markdown call another page: other.md, other.html, other/, ../other/.
PAGE_SUFFIXES = (".md", ".markdown", ".html", ".htm")
FOLDER_PAGES = ("index.html", "index.md")
#: A printed URL may break after a run of these ('://', '/', '?' …), but not after a '.',
#: which would read as the end of a sentence.
URL_BREAK_AFTER = re.compile(r"[/:?&=#_~+]+(?=.)")
#: A break without a hyphen: WeasyPrint draws <wbr> as this character too.
ZERO_WIDTH_SPACE = "\u200b"
#: Glued after the address's own hyphens, where a line would otherwise break: a hyphen at
#: the end of a line reads as one added, and the reader would leave it out.
WORD_JOINER = "\u2060"


@dataclass(frozen=True)
class ChapterLink:
    """A link to a chapter, or to a section of one, until every chapter's ids are known."""

    source: Path | None  # the chapter the link stands in
    href: str  # as written
    target: Path  # the chapter it leads to
    fragment: str  # the section named after '#', or ''


class BookLinks:
    """The chapters a link may lead to, and where the links of the chapters led.

    A chapter's ids are given out as it is rendered, so a link to a later chapter is
    written with a placeholder that render.resolve_links replaces once all are rendered.
    web_links: how print shows a web address ('footnote', 'after', 'none'); None for
    screens, where a link is only a link.
    """

    def __init__(self, chapters=(), web_links: str | None = "footnote"):
        self.names: dict[str, Path] = {}
        for chapter in chapters:  # a site names a page by its file name, with or without number
            self.names.setdefault(chapter.path.stem, chapter.path)
            self.names.setdefault(chapter.slug, chapter.path)
        self.web_links = web_links
        self.source: Path | None = None
        self.to_chapters: dict[str, ChapterLink] = {}  # placeholder -> the link
        self.outside: list[tuple[Path | None, str]] = []  # (chapter, href) of links dropped

    def start_document(self, path: Path) -> None:
        """Begin a chapter: the links found from now on stand in it."""
        self.source = path

    def chapter_named(self, path: str) -> Path | None:
        """The chapter a relative link names (other.md, ../other/, other.html), if any."""
        if path.startswith("/"):
            return None  # the root of a web site, not the book
        parts = [part for part in path.split("/") if part not in ("", ".", "..")]
        if len(parts) == 2 and parts[1] in FOLDER_PAGES:
            parts.pop()
        if len(parts) != 1:
            return None
        name = parts[0]
        for suffix in PAGE_SUFFIXES:
            name = name.removesuffix(suffix)
        return self.names.get(name)


def decoded_href(href: str) -> str:
    """The address as written: Python-Markdown hides an e-mail link's letters as entities.

    Only those: '&not=1' in another address is not the entity '¬'.
    """
    if AMP_SUBSTITUTE not in href:
        return href
    return html.unescape(href.replace(AMP_SUBSTITUTE, "&"))


def printed_url(address: str) -> str:
    """The address with a break allowed after each run of slashes and other punctuation, but
    not after 'https://', which stays with the site's name; and none after a hyphen."""
    split = re.match(r"((?:[a-z][a-z0-9+.-]*://)?)(.*)", address, re.DOTALL)
    assert split is not None  # both groups may be empty: it always matches
    scheme, rest = split.groups()
    rest = URL_BREAK_AFTER.sub(lambda match: match[0] + ZERO_WIDTH_SPACE, rest)
    # Pango would break after the '//' of its own accord.
    return scheme + WORD_JOINER * bool(scheme) + rest.replace("-", "-" + WORD_JOINER)


def same_address(text: str, address: str) -> bool:
    """Whether a link's text is its address (example.org/a for https://example.org/a/)."""

    def bare(value):
        value = re.sub(r"^(?:[a-z][a-z0-9+.-]*:(?://)?)", "", value.strip().lower())
        return value.removeprefix("www.").rstrip("/")

    return bare(text) == bare(address)


class LinkTreeprocessor(Treeprocessor):
    """Makes every link of a chapter one a book can keep.

    A link to another chapter (other.md#section, ../other/, other.html) leads to that
    chapter's heading, and one to a heading (#id) stays; print adds the page of each. A web
    address is printed as the book says (a footnote, after the text, or not at all), so a
    reader of paper can type it. Any other link would lead to a file on the machine that
    built the book: it becomes plain text, and render warns of it.
    """

    def __init__(self, md, registry: IdRegistry, links: BookLinks):
        super().__init__(md)
        self.registry = registry
        self.links = links

    def run(self, root):
        for parent, link, place in list(_links_in(root)):
            self._make(parent, link, decoded_href(link.get("href")), place)

    def _make(self, parent, link, href: str, place: str) -> None:
        address = urlsplit(href)
        relative = not address.scheme and not address.netloc
        if address.scheme in WEB_SCHEMES and (address.netloc or address.scheme == "mailto"):
            if self.links.web_links is not None:
                link.set("href", href)
                self._print_address(parent, link, href, place)
        elif href.startswith("#"):
            if len(href) > 1:
                _lead_to_page(link, href)
        elif relative and (target := self.links.chapter_named(address.path)):
            key = CHAPTER_LINK.format(len(self.links.to_chapters) + 1)
            self.links.to_chapters[key] = ChapterLink(
                self.links.source, href, target, address.fragment
            )
            _lead_to_page(link, "#" + key)
        else:
            self.links.outside.append((self.links.source, href))
            link.tag = "span"  # its text stays, as plain text
            link.attrib.clear()

    def _print_address(self, parent, link, href: str, place: str) -> None:
        shown = href.removeprefix("mailto:")
        if same_address(decoded_href("".join(link.itertext())), shown):
            for child in list(link):
                link.remove(child)
            link.text = AtomicString(printed_url(decoded_href(link.text or "") or shown))
            _add_class(link, "url")
            return  # the text is the address: printed once
        form = self.links.web_links
        if form == "none" or place == "heading":
            return  # a note in a heading would stand in the contents and the bookmarks
        if form == "after" or place == "note":  # a note cannot hold a note
            printed = etree.Element("span", {"class": "link-after"})
            printed.text = " ("
            _url_element(printed, href, shown).tail = ")"
        else:
            note_id = self.registry.next_note_id()
            printed = etree.Element("span", {"class": "footnote link-note", "id": note_id})
            _url_element(printed, href, shown)
        _insert_after(parent, link, printed)
        if form == "footnote" and place != "note":
            _insert_after(
                parent,
                link,
                etree.Element(
                    "a", {"class": "note-call", "id": note_call_id(printed.get("id", ""))}
                ),
            )


def _links_in(element, place: str = ""):
    """(parent, link, place) of each link written in the text; place: '', 'note' or 'heading'."""
    for child in element:
        classes = set(child.get("class", "").split())
        if child.tag == "a" and child.get("href") and not classes & OWN_LINKS:
            yield element, child, place
        inner = "heading" if child.tag in HEADING_TAGS else place
        yield from _links_in(child, "note" if "footnote" in classes else inner)


def _lead_to_page(link, href: str) -> None:
    """Make link one to a place in the book; its class first, as render and typeset read it."""
    others = {name: value for name, value in link.attrib.items() if name not in ("class", "href")}
    classes = " ".join([PAGE_LINK, *link.get("class", "").split()])
    link.attrib.clear()
    link.set("class", classes)
    link.set("href", href)
    for name, value in others.items():
        link.set(name, value)


def _add_class(element, name: str) -> None:
    element.set("class", " ".join([*element.get("class", "").split(), name]))


def _url_element(parent, href: str, shown: str):
    url = etree.SubElement(parent, "a", {"class": "url", "href": href})
    url.text = AtomicString(printed_url(shown))  # smart quotes and dashes stay out of it
    return url


def _insert_after(parent, element, new) -> None:
    new.tail, element.tail = element.tail, None
    parent.insert(list(parent).index(element) + 1, new)


class LinkExtension(Extension):
    def __init__(self, registry: IdRegistry, links: BookLinks, **kwargs):
        self.registry = registry
        self.links = links
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # After footnotes are moved to their calls (14), so that a link in a note is known
        # as one; before the index terms (7), which skip links, and smarty (6).
        processor = LinkTreeprocessor(md, self.registry, self.links)
        md.treeprocessors.register(processor, "book_links", 13)


# --- Code: each line of a block on its own ---------------------------------------------------

#: The spaces that open a line of code, as a token of their own.
CODE_INDENT = Token.Text.Whitespace.Indent
#: Tokens printed as plain text, which need no element of their own: names, punctuation,
#: operators and white space make most of the tokens of a program, and each element more
#: is a box more to lay out and a tag more in the PDF.
PLAIN_TOKENS = frozenset(
    {Token.Text, Token.Text.Whitespace, Token.Name, Token.Punctuation, Token.Operator}
)


class CodeLineFormatter(HtmlFormatter):
    """Pygments' HTML, with each line of the source in a ``<span class="line">`` of its own.

    codehilite (which fenced_code calls too) highlights every code block with it. A line
    holds the spaces that indent it (``<span class="indent">``) and its text (``<span
    class="text">``): a text too long for the page wraps within its span, which the
    stylesheets indent and mark as continued, and each line is kept whole on one page.
    Pygments closes and reopens a token's span at each line end, so every line holds whole
    elements.
    """

    def __init__(self, lang_str: str = "", **options):
        super().__init__(**options)
        self.lang_str = lang_str  # "language-python", given by codehilite; the class of <code>

    def format_unencoded(self, tokensource, outfile):
        plain = ((Token.Text if kind in PLAIN_TOKENS else kind, text) for kind, text in tokensource)
        super().format_unencoded(_indents_apart(plain), outfile)

    def wrap(self, source):
        # Pygments' own, undocumented, and missing from its stubs: the token's CSS classes.
        classes = self._get_css_classes(CODE_INDENT)  # type: ignore[attr-defined]
        opening = f'<span class="{classes}">'
        lines = ((kind, _code_line(text, opening) if kind == 1 else text) for kind, text in source)
        return super().wrap(lines)

    def _wrap_code(self, inner):
        yield 0, f'<code class="{self.lang_str}">' if self.lang_str else "<code>"
        yield from inner
        yield 0, "</code>"


def _indents_apart(tokens):
    """The tokens, with the spaces that open each line made a CODE_INDENT token."""
    line_start = True
    for kind, value in tokens:
        for piece in re.split(r"(?<=\n)", value):  # the token's part on each line
            if line_start and piece.startswith(" "):
                text = piece.lstrip(" ")
                yield CODE_INDENT, piece[: len(piece) - len(text)]
                piece = text
            if piece:
                yield kind, piece
                line_start = piece.endswith("\n")


def _code_line(html: str, indent_opening: str) -> str:
    """One formatted line (with its newline) as a line span: its indent, then its text.

    The newline stays inside: an empty line keeps its height, and text copied from a
    screen keeps its lines.
    """
    indent = ""
    if html.startswith(indent_opening):
        end = html.index("</span>")
        indent = f'<span class="indent">{html[len(indent_opening) : end]}</span>'
        html = html[end + len("</span>") :]
    return f'<span class="line">{indent}<span class="text">{html}</span></span>'


#: A code span with a run of this many characters without a space (a path, a long name).
LONG_CODE_RUN = re.compile(r"\S{20,}")


class LongCodeTreeprocessor(Treeprocessor):
    """Marks each code span that holds a long run without a space with the class "long".

    Print lets such a span break anywhere (book.css), so that it neither runs off the page
    nor, moved whole to the next line, leaves the line before it gaping. Code blocks are
    kept aside by then (fenced_code and codehilite store them as raw HTML).
    """

    def run(self, root):
        for code in root.iter("code"):
            if LONG_CODE_RUN.search(code.text or ""):
                code.set("class", " ".join([*code.get("class", "").split(), "long"]))


class CodeExtension(Extension):
    def extendMarkdown(self, md):
        # After the inline patterns (20), which make the code spans.
        md.treeprocessors.register(LongCodeTreeprocessor(md), "long_code", 5)


# --- HTML boxes: <aside>, <details>, <figure> -------------------------------------------------

#: Elements of raw HTML that are the book's boxes and figures (layout/book.css, "HTML boxes"),
#: and how their content is read when they do not say (markdown="…"): as Markdown blocks, or
#: (a summary, a caption) as one line of Markdown.
MARKDOWN_BOXES = {
    "aside": "1",
    "details": "1",
    "figure": "1",
    "summary": "span",
    "figcaption": "span",
}


class _BoxHtmlExtractor(HTMLExtractorExtra):
    """md_in_html's reader of raw HTML, for which a box holds Markdown unless it says otherwise.

    Pages brought in from course websites and GitHub write Markdown in <details> and
    <aside> without markdown="1", and would print it as typed, asterisks and all.
    """

    def get_state(self, tag, attrs):
        if tag in MARKDOWN_BOXES and "markdown" not in attrs:
            attrs = {**attrs, "markdown": MARKDOWN_BOXES[tag]}
        return super().get_state(tag, attrs)


class _BoxHtmlPreprocessor(HtmlBlockPreprocessor):
    """md_in_html's preprocessor, reading with _BoxHtmlExtractor."""

    def run(self, lines: list[str]) -> list[str]:
        parser = _BoxHtmlExtractor(self.md)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")


class HtmlBoxExtension(Extension):
    """Markdown inside the book's HTML boxes, with or without markdown="1" (md_in_html)."""

    def extendMarkdown(self, md):
        if "markdown_block" not in md.parser.blockprocessors:
            MarkdownInHtmlExtension().extendMarkdown(md)
        # In place of md_in_html's own reader: the same name and priority.
        md.preprocessors.register(_BoxHtmlPreprocessor(md), "html_block", 20)


# --- GitHub-style alerts: > [!NOTE] ------------------------------------------------------------

#: Each kind of alert and the label that heads its box.
ALERT_LABELS = {
    "note": "Note",
    "tip": "Tip",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
}
ALERT_START = re.compile(r"^[ ]{0,3}>[ ]?\[!(?P<kind>[A-Za-z]+)\][ \t]*(?:\n|$)")
ALERT_HEADING = "alert-heading"  # the class of the paragraph that carries the label


class AlertBlockProcessor(BlockQuoteProcessor):
    """A quotation whose first line is [!NOTE] (or TIP, IMPORTANT, WARNING, CAUTION) becomes
    ``<div class="alert alert-note">``, headed by its label, as GitHub shows it.

    A processor of blocks, not of the finished tree: Python-Markdown joins a quotation to
    the one before it when only a blank line parts them, and an alert would swallow the
    quotation that follows it.
    """

    def test(self, parent, block):
        match = ALERT_START.match(block)
        known = match is not None and match["kind"].lower() in ALERT_LABELS
        return known and not nearing_recursion_limit()

    def run(self, parent, blocks):
        block = blocks.pop(0)
        match = ALERT_START.match(block)
        assert match is not None  # test() found it
        kind = match["kind"].lower()
        alert = etree.SubElement(parent, "div", {"class": f"alert alert-{kind}"})
        etree.SubElement(alert, "p", {"class": ALERT_HEADING}).text = ALERT_LABELS[kind]
        text = "\n".join(self.clean(line) for line in block[match.end() :].split("\n"))
        self.parser.state.set("blockquote")  # as in a quotation: list items keep their <p>
        self.parser.parseChunk(alert, text)
        self.parser.state.reset()


class AlertExtension(Extension):
    def extendMarkdown(self, md):
        # Before quotations (20), which would take the block as one of theirs.
        md.parser.blockprocessors.register(AlertBlockProcessor(md.parser), "github_alert", 21)


# --- Key terms: the list under a heading "Key terms" in a box --------------------------------

#: The heading, in any level or case, whose list in a box holds the chapter's key terms.
KEY_TERMS_HEADING = "key terms"
KEY_TERM = "key-term"  # the class of a key term's list item; its id is "term-<term>"


class KeyTermTreeprocessor(Treeprocessor):
    """Gives each item of a box's key-terms list an id and the class "key-term".

    A key-terms list is the list right after a heading "Key terms" inside a box (::: review,
    <aside>, any <div class="…">), each item starting with its term in bold:
    ``- **Gulag** — the Main Administration of Camps``. The glossary (backmatter.py) is
    gathered from these items and links to them, so it can print the page of each.
    """

    def __init__(self, md, registry: IdRegistry):
        super().__init__(md)
        self.registry = registry

    def run(self, root):
        for box in root.iter():
            if box.tag == "aside" or (box.tag == "div" and box.get("class")):
                children = list(box)
                for heading, following in itertools.pairwise(children):
                    if _is_key_terms_heading(heading) and following.tag in ("ul", "ol"):
                        for item in following.findall("li"):
                            self._mark(item)

    def _mark(self, item) -> None:
        term = _bold_term(item)
        if term is None or item.get("id"):
            return
        item.set("id", self.registry.claim("term-" + slugify(term)))
        _add_class(item, KEY_TERM)


def _is_key_terms_heading(element) -> bool:
    if element.tag not in HEADING_TAGS:
        return False
    return " ".join("".join(element.itertext()).split()).casefold() == KEY_TERMS_HEADING


def _bold_term(item) -> str | None:
    """The words of the bold term that opens a list item (in its paragraph, in a loose list)."""
    holder = item[0] if len(item) and item[0].tag == "p" and not (item.text or "").strip() else item
    if (holder.text or "").strip() or not len(holder):
        return None
    first = holder[0]
    if (
        first.tag == "em"
        and len(first)
        and first[0].tag == "strong"
        and not (first.text or "").strip()
    ):
        first = first[0]  # ***term***: Python-Markdown may nest them either way
    if first.tag != "strong":
        return None
    return " ".join("".join(first.itertext()).split()) or None


class KeyTermExtension(Extension):
    def __init__(self, registry: IdRegistry, **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # After the index terms (7), so that the term's own words are indexed as elsewhere,
        # and before the heading levels (0) change, which this does not depend on.
        md.treeprocessors.register(KeyTermTreeprocessor(md, self.registry), "key_terms", 3)


# --- Source boxes: ::: source {#name} … ::: ----------------------------------------------------

SOURCE_BOX = "source"  # the class of a source box, and the name after ':::'
#: The opening line of a source box, with the name a cross-reference ({@name}) gives it.
SOURCE_START = re.compile(r"^:::[ ]*source[ ]*(?:\{[ ]*#(?P<id>[A-Za-z][\w-]*)[ ]*\})?[ ]*(?:\n|$)")
#: The provenance: the first paragraph of the box that starts with an em dash, or two
#: hyphens (a keyboard's dash), and a space: "— Nikita Khrushchev, speech …, 1956".
PROVENANCE = re.compile(r"^[ ]{0,3}(?:\u2014|--)(?!-)[ \t]*")
SOURCE_TITLE = "source-title"  # the class of the box's heading; render writes its number
SOURCE_EXTRACT = "source-extract"
PROVENANCE_CLASS = "provenance"


class SourceBlockProcessor(FencedBlockProcessor):
    """A primary source: its extract, the provenance line, then what follows (questions).

    ``<div class="source" id="name">`` holds a heading render numbers ("Source 2.3"), the
    extract in ``<blockquote class="source-extract">``, ``<p class="provenance">`` and the
    rest as written. A quotation written with '>' is the extract itself.
    """

    def __init__(self, parser, registry: IdRegistry):
        super().__init__(parser)
        self.registry = registry

    def test(self, parent, block):
        return bool(SOURCE_START.match(block))

    def run(self, parent, blocks):
        opening = SOURCE_START.match(blocks[0])
        assert opening is not None  # test() found it
        blocks[0] = blocks[0][opening.end() :]
        for index, block in enumerate(blocks):
            end = self.END.search(block)
            if end:
                rest = block[end.end() :]
                inner = [*blocks[:index], block[: end.start()]]
                del blocks[: index + 1]
                if rest.strip():
                    blocks.insert(0, rest)
                self._box(parent, opening["id"], [b for b in inner if b.strip()])
                return True
        blocks[0] = opening[0] + blocks[0]
        return False  # no closing fence: the checks report it

    def _box(self, parent, name: str | None, inner: list[str]) -> None:
        box = etree.SubElement(
            parent, "div", {"class": SOURCE_BOX, "id": self.registry.claim(name or SOURCE_BOX)}
        )
        etree.SubElement(box, "p", {"class": SOURCE_TITLE}).text = "Source"
        at = next((i for i, block in enumerate(inner) if PROVENANCE.match(block)), None)
        if at is None:  # warned of by load.check_source_boxes; the extract runs to a heading
            at = next(
                (i for i, block in enumerate(inner) if block.lstrip().startswith("#")), len(inner)
            )
            extract, provenance, rest = inner[:at], None, inner[at:]
        else:
            extract, provenance, rest = (
                inner[:at],
                PROVENANCE.sub("", inner[at], count=1),
                inner[at + 1 :],
            )
        if extract and all(block.lstrip().startswith(">") for block in extract):
            self.parser.parseBlocks(box, extract)
            box[-1].set("class", SOURCE_EXTRACT)
        elif extract:
            self.parser.parseBlocks(
                etree.SubElement(box, "blockquote", {"class": SOURCE_EXTRACT}), extract
            )
        if provenance is not None:
            self.parser.parseBlocks(box, [provenance])
            box[-1].set("class", PROVENANCE_CLASS)
        self.parser.parseBlocks(box, rest)


class SourceTitleTreeprocessor(Treeprocessor):
    """Makes each source box's title a heading, above the headings written in the box.

    After heading ids (1), so that the title is in neither the contents nor the outline; before
    heading levels (0), which set it at a box's level (h3) and the box's "Questions" below it.
    """

    def __init__(self, md, registry: IdRegistry):
        super().__init__(md)
        self.registry = registry

    def run(self, root):
        for box in root.iter("div"):
            if box.get("class") == SOURCE_BOX and len(box) and box[0].get("class") == SOURCE_TITLE:
                levels = [
                    HEADING_TAGS[inner.tag] for inner in box.iter() if inner.tag in HEADING_TAGS
                ]
                box[0].tag = f"h{max(1, min(levels, default=3) - 1)}"
                box[0].set("id", self.registry.claim(f"{box.get('id')}-title"))


def check_source_boxes(body: str, body_line: int, path: Path, root: Path | None = None) -> None:
    """A warning for each source box without its provenance line, at the box's first line."""
    from .errors import warn

    opened = None
    for number, line in numbered_lines(body, body_line):
        if SOURCE_START.match(line):
            opened, found = number, False
        elif opened is not None and re.match(r"^:::[ ]*$", line):
            if not found:
                warn(
                    path,
                    opened,
                    "the source box has no provenance line: who wrote it, what it is, "
                    "when and where",
                    "add a paragraph that starts with an em dash (— or --) after the extract, e.g. "
                    "'— Nikita Khrushchev, speech to the 20th Party Congress, Moscow, "
                    "25 February 1956'",
                )
            opened = None
        elif opened is not None and PROVENANCE.match(line):
            found = True


class SourceBoxExtension(Extension):
    def __init__(self, registry: IdRegistry, **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # Before the other fenced blocks (105), which would take '::: source' as a plain box.
        md.parser.blockprocessors.register(
            SourceBlockProcessor(md.parser, self.registry), "source_box", 106
        )
        md.treeprocessors.register(
            SourceTitleTreeprocessor(md, self.registry), "source_titles", 0.5
        )
