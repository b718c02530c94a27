"""Markdown stage: the Python-Markdown extensions the chapters are written with."""

from __future__ import annotations

import html
import re
import unicodedata
import xml.etree.ElementTree as etree

from markdown import Extension
from markdown.blockprocessors import BlockProcessor
from markdown.extensions.footnotes import NBSP_PLACEHOLDER
from markdown.extensions.toc import render_inner_html, strip_tags
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from .figures import CROSS_REFERENCE
from .index import IndexTerm, parse_mark
from .model import Heading, IndexMark

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
        name = self.START.match(first).group(1)
        blocks[0] = first[self.START.match(first).end():]
        for index, block in enumerate(blocks):
            end = self.END.search(block)
            if end:
                blocks[index] = block[:end.start()]
                rest = block[end.end():]
                # A dropped block is parsed into a detached element: none of its text, ids
                # or index marks reach the document.
                div = etree.Element("div") if name in self.dropped else etree.SubElement(parent, "div", {"class": name})
                inner = blocks[:index + 1]
                del blocks[:index + 1]
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
        md.parser.blockprocessors.register(FencedBlockProcessor(md.parser, self.dropped), "fenced_block", 105)


# --- Footnotes at the foot of the page -------------------------------------------------------

class PageFootnoteTreeprocessor(Treeprocessor):
    """Moves each footnote's text to where it is called, as ``<span class="footnote">``.

    The footnotes extension collects notes in a list at the end of the document; CSS paged
    media (``float: footnote``) needs the note's text at its call to set it at the foot of
    the page the call lands on.
    """

    def __init__(self, md, registry: "IdRegistry"):
        super().__init__(md)
        self.registry = registry

    def run(self, root):
        notes_div = next((div for div in root.iter("div") if div.get("class") == "footnote"), None)
        if notes_div is None:
            return
        notes = {li.get("id"): li for li in notes_div.iter("li")}
        for parent in list(root.iter()):
            for sup in [child for child in parent if child.tag == "sup" and child.get("id", "").startswith("fnref")]:
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
            part = span if paragraph is paragraphs[0] else etree.SubElement(span, "span", {"class": "footnote-part"})
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
    def __init__(self, registry: "IdRegistry", **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # After the footnotes extension has built and ordered its list (priorities 50..15).
        md.treeprocessors.register(PageFootnoteTreeprocessor(md, self.registry), "page_footnotes", 14)


# --- Heading ids unique across the whole book ------------------------------------------------

NOTE_ID = re.compile(r"note_\d+")


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


class HeadingIdExtension(Extension):
    def __init__(self, registry: IdRegistry, **kwargs):
        self.registry = registry
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        # After attr_list (8), so that an id written as {#id} is kept, and after smarty (6),
        # so that titles carry the same curly quotes as the page.
        md.treeprocessors.register(HeadingIdTreeprocessor(md, self.registry), "book_heading_ids", 1)


# --- Index marks: [words]{^}, [words]{^Heading; sub}, {^Heading; sub} ------------------------

INDEX_MARK = (r"\[(?P<text>[^\]\n]+)\]\{\^(?P<target>[^}\n]*)\}"
              r"|\{\^(?P<hidden>[^}\n]*)\}")


class IndexMarkInlineProcessor(InlineProcessor):
    """``[the secret police]{^NKVD}`` indexes the words under a heading; ``{^Heading}`` marks a spot."""

    def __init__(self, registry: IdRegistry):
        super().__init__(INDEX_MARK)
        self.registry = registry

    def handleMatch(self, match, data):
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
        """[text before the first match, mark, mark, …] with each mark's tail set; None if no match."""
        if not text or not self.pattern.search(text):
            return None
        # An empty anchor, not a span around the words, glued to the end of the word before
        # them ('region a<a/> quota'): WeasyPrint 70 breaks a line too early when the break
        # would fall just before an inline box. The typeset stage moves an anchor that ends
        # a page's last line to the next page, where its words are.
        pieces, position = [None], 0
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
        md.treeprocessors.register(AutoIndexTreeprocessor(md, self.registry, self.terms), "auto_index", 7)


# --- Cross-references: {@timeline} ------------------------------------------------------------

class CrossReferenceInlineProcessor(InlineProcessor):
    """``{@timeline}`` becomes a link to that figure; render and typeset fill in its number and page."""

    def handleMatch(self, match, data):
        element = etree.Element("a", {"class": "xref", "href": "#" + match.group("id")})
        element.text = match.group("id")
        return element, match.start(0), match.end(0)


class CrossReferenceExtension(Extension):
    def extendMarkdown(self, md):
        md.inlinePatterns.register(CrossReferenceInlineProcessor(CROSS_REFERENCE.pattern), "cross_reference", 186)
