"""The EPUB 3 edition: the screen book as one XHTML document per chapter, in an OCF zip.

The chapters are the web edition's (bookpress.screen.ScreenBook): the same sections, made
XHTML, with the print-only forms turned into their EPUB ones: a footnote set at its call
becomes a note reference and an aside at the end of its chapter, a printed page break a
page-break marker listed in the navigation's page-list, a link within the page a link to
the chapter document that holds its target.

Same bytes on every run: the zip is written here, its `mimetype` entry first and stored,
every entry dated with the book's date, in reading order, compressed at one fixed level.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote
from xml.etree import ElementTree as ET

from markupsafe import Markup

from .clock import source_date_epoch, w3c_date
from .errors import BookError
from .imprint import licence_of
from .model import Book, BookInfo
from .sources import URL_SCHEME

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
MIMETYPE = b"application/epub+zip"
FOLDER = "EPUB"  # the publication's files, beside META-INF/
STYLESHEET = "book.css"
COVER_IMAGE = "cover.svg"
#: Files of the publication that a chapter's own name must not take.
RESERVED_NAMES = frozenset({"cover", "title", "nav", "index", "book", "package"})
#: The conformance the accessibility metadata claims; tests/test_epub.py has DAISY Ace check it.
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"
#: Where the book's identifier is derived from: the same title and edition, the same book.
IDENTIFIER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://bookpress.invalid/epub")
#: The EPUB 3.3 core media types of pictures: a reading system shows them without a fallback.
PICTURE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


@dataclass
class Item:
    """A file of the publication: its path under EPUB/, its media type, its bytes."""

    href: str
    media_type: str
    data: bytes
    properties: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """A manifest id (an XML name) made from the path, its folders' '/' made '-'; a path
        with other characters to change carries a digest, so two paths never share an id."""
        plain = re.sub(r"[^A-Za-z0-9_.-]", "-", self.href)
        if plain == self.href.replace("/", "-"):
            return "f-" + plain
        return f"f-{plain}-{hashlib.sha256(self.href.encode()).hexdigest()[:8]}"


@dataclass
class Document:
    """A content document in the making: its file name, title and <section> tree."""

    href: str
    title: str
    section: ET.Element
    notes: list[ET.Element] = field(default_factory=list)


def make_epub(screen, book: Book) -> bytes:
    """The EPUB edition of the screen book, as the bytes of its OCF zip."""
    from .render import template_environment

    environment = template_environment(book.layout_dir)
    info = screen.info
    context = {
        "book": info,
        "stylesheet": STYLESHEET,
        "licence": licence_of(info),
        "conformance": CONFORMANCE,
        "attribution": Markup(inline_xhtml(info.attribution)),
    }
    documents = _chapter_documents(screen)
    pictures = _prepared(documents, book.root)
    items = _xhtml_items(environment, context, screen, documents)
    fonts = _fonts(book.layout_dir, _shown_text(items, info))
    items.append(Item(COVER_IMAGE, "image/svg+xml", cover_svg(info, fonts), ("cover-image",)))
    items.append(Item(STYLESHEET, "text/css", _stylesheet(book.layout_dir, fonts).encode()))
    items += [Item(f"fonts/{font.filename}", "font/woff2", font.data) for font in fonts]
    items += pictures
    spine = [item for item in items if item.media_type == "application/xhtml+xml"]
    epoch = source_date_epoch(book)
    package = _render(
        environment,
        "epub-package.opf",
        {
            **context,
            "items": items,
            "spine": spine,
            "identifier": book_identifier(info),
            "modified": w3c_date(epoch),
            "page_source": page_source(screen),
            "accessibility_summary": accessibility_summary(screen),
        },
    )
    return ocf_zip(
        [("META-INF/container.xml", CONTAINER.encode()), (f"{FOLDER}/package.opf", package)]
        + [(f"{FOLDER}/{item.href}", item.data) for item in items],
        epoch,
    )


def _prepared(documents: list[Document], root: Path) -> list[Item]:
    """Links between the documents made links between files; the pictures they show, as files."""
    ids = {element_id: document.href for document in documents for element_id in _ids(document)}
    pictures: dict[str, Item] = {}
    for document in documents:
        _rewrite_links(document, ids)
        _take_pictures(document, root, pictures)
    return [pictures[href] for href in sorted(pictures)]


def _xhtml_items(environment, context: dict, screen, documents: list[Document]) -> list[Item]:
    """The spine's documents in reading order: cover, title page, contents, chapters, index."""
    ids = {element_id: document.href for document in documents for element_id in _ids(document)}
    items = [
        Item(
            "cover.xhtml",
            "application/xhtml+xml",
            _render(
                environment,
                "epub-cover.xhtml",
                {**context, "image": COVER_IMAGE, "alt": cover_description(screen.info)},
            ),
        ),
        Item(
            "title.xhtml",
            "application/xhtml+xml",
            _render(environment, "epub-title.xhtml", context),
        ),
        Item(
            "nav.xhtml",
            "application/xhtml+xml",
            _render(
                environment,
                "epub-nav.xhtml",
                {
                    **context,
                    "toc": _toc(screen, documents, ids),
                    "pages": _page_list(screen, ids),
                    "bodymatter": documents[0].href,
                    "index": documents[-1].href,
                },
            ),
            ("nav",),
        ),
    ]
    for document in documents:
        body = _serialized_body(document)
        items.append(
            Item(
                document.href,
                "application/xhtml+xml",
                _render(
                    environment,
                    "epub-document.xhtml",
                    {
                        **context,
                        "title": document.title,
                        "body": Markup(body),
                        "index": document is documents[-1],
                    },
                ),
                ("svg",) if "<svg" in body else (),
            )
        )
    return items


CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


def _render(environment, name: str, context: dict) -> bytes:
    return environment.get_template(name).render(context).encode()


# --- The metadata ------------------------------------------------------------------------------


def book_identifier(info: BookInfo) -> str:
    """The book's dc:identifier: a name-based UUID of its title and edition, never a random one."""
    return f"urn:uuid:{uuid.uuid5(IDENTIFIER_NAMESPACE, info.title + chr(10) + info.edition)}"


def page_source(screen) -> str:
    """What the page-list's numbers are pages of, for the pageBreakSource metadata."""
    return f"{screen.info.title}, {screen.info.edition}: {screen.page_source}"


def accessibility_summary(screen) -> str:
    """The schema:accessibilitySummary: what a reader who cannot see the pages can count on."""
    pages = f" and the page numbers of {screen.page_source}" if screen.pages else ""
    return (
        f"A textbook in {len(screen.chapters)} chapters with headings, a contents, an index "
        f"and footnotes that link back to their place in the text{pages}. Every figure and "
        "picture has a text alternative, the tables have header cells, and the text reflows "
        "at any size; nothing flashes, moves or plays sound."
    )


# --- Chapters as XHTML -------------------------------------------------------------------------


def _chapter_documents(screen) -> list[Document]:
    """A document per chapter, then the index, each with its file name and notes."""
    names: set[str] = set(RESERVED_NAMES)
    documents = []
    for chapter in screen.chapters:
        documents.append(
            content_document(
                chapter.section,
                _file_name(chapter.source.slug, names),
                chapter.source.title,
                "chapter",
            )
        )
    documents.append(content_document(screen.index_section, "index.xhtml", "Index", "index"))
    return documents


def content_document(html: str, href: str, title: str, kind: str) -> Document:
    """A <section> of the screen book as a content document: EPUB's names for what it is
    (kind: chapter, index) and for what it holds."""
    section = parse_section(html)
    section.set("epub:type", kind)
    section.set("role", f"doc-{kind}")
    document = Document(href, title, section)
    _set_heading_levels(section)
    document.notes = _notes_to_asides(section)
    _mark_page_breaks(section)
    for tree in (section, *document.notes):
        _anchors_as_spans(tree)
    return document


def _file_name(slug: str, taken: set[str]) -> str:
    """The chapter's file: its slug made safe in a URL, never a name another file has."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", slug).strip("-").lower() or "chapter"
    stem = f"chapter-{stem}" if stem in RESERVED_NAMES else stem
    candidates = itertools.chain([stem], (f"{stem}-{number}" for number in itertools.count(2)))
    name = next(candidate for candidate in candidates if candidate not in taken)
    taken.add(name)
    return f"{name}.xhtml"


def _ids(document: Document):
    for tree in (document.section, *document.notes):
        for element in tree.iter():
            if "id" in element.attrib:
                yield element.get("id")


HEADING = re.compile(r"h([1-6])")


def _set_heading_levels(section: ET.Element) -> None:
    """Chapter titles h2 below the book's h1 (the title page's), their sections h3, and so on.

    The sections come with the levels the screen rendering gives them; here the title is h2
    and the highest of the other headings h3, the rest keeping their distance from it. A
    heading never goes more than one level below the one before it (a box's "### Note" right
    after the title): a reader moving by headings would find a level missing.
    """
    headings = [element for element in section.iter() if HEADING.fullmatch(element.tag)]
    others = [heading for heading in headings if "chapter-title" not in _classes(heading)]
    top = min((int(heading.tag[1]) for heading in others), default=3)
    previous = 2
    for heading in headings:
        level = 2 if heading not in others else min(3 + int(heading.tag[1]) - top, previous + 1)
        heading.tag = f"h{min(6, level)}"
        previous = level


def _classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def _notes_to_asides(section: ET.Element) -> list[ET.Element]:
    """Each footnote, set at its call for print, as a numbered note reference and an aside.

    The print form (extensions.PageFootnoteTreeprocessor) is an empty <a class="note-call">
    followed by <span class="footnote" id=…>, its later paragraphs <span class="footnote-part">.
    """
    parents = {child: parent for parent in section.iter() for child in parent}
    asides: list[ET.Element] = []
    for span in [element for element in section.iter("span") if "footnote" in _classes(element)]:
        parent = parents[span]
        siblings = list(parent)
        before = siblings[siblings.index(span) - 1] if siblings.index(span) else None
        number = str(len(asides) + 1)
        call = before if before is not None and "note-call" in _classes(before) else None
        if call is None:  # not seen in the print form; the reference is made here
            call = ET.Element("a", {"class": "note-call", "id": span.attrib["id"] + "_call"})
            parent.insert(siblings.index(span), call)
        call.attrib.update(
            {"href": "#" + span.attrib["id"], "epub:type": "noteref", "role": "doc-noteref"}
        )
        call.text = number
        _remove_keeping_tail(parent, span)
        asides.append(_aside(span, number, call.attrib["id"]))
    return asides


def _remove_keeping_tail(parent: ET.Element, element: ET.Element) -> None:
    """Take the element out; the text that followed it stays where it was."""
    siblings = list(parent)
    index = siblings.index(element)
    if element.tail:
        if index:
            siblings[index - 1].tail = (siblings[index - 1].tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _aside(span: ET.Element, number: str, call_id: str) -> ET.Element:
    """The note as EPUB's footnote: its number a link back to the call, a paragraph per part."""
    aside = ET.Element(
        "aside",
        {
            "class": "footnote",
            "epub:type": "footnote",
            "role": "doc-footnote",
            "id": span.attrib["id"],
        },
    )
    first = ET.SubElement(aside, "p")
    back = ET.SubElement(
        first,
        "a",
        {
            "class": "note-back",
            "href": "#" + call_id,
            "role": "doc-backlink",
            "aria-label": f"{number}: back to the text",
        },
    )
    back.text = number
    back.tail = " " + (span.text or "").lstrip()
    paragraph = first
    for child in list(span):
        if "footnote-part" in _classes(child):
            paragraph = ET.SubElement(aside, "p")
            paragraph.text = child.text
            paragraph.extend(list(child))
            if child.tail:
                _append_text(paragraph, child.tail)
        else:
            paragraph.append(child)
    return aside


def _append_text(element: ET.Element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _mark_page_breaks(section: ET.Element) -> None:
    """A printed page's start, marked for print as role="doc-pagebreak", in EPUB's words too."""
    for element in section.iter("span"):
        if "page-break" in _classes(element):
            element.set("epub:type", "pagebreak")
            element.set("title", element.get("aria-label", ""))


def _anchors_as_spans(section: ET.Element) -> None:
    """An <a> that only holds an id (an index mark) is a place, not a link: a <span>."""
    for element in section.iter("a"):
        if "href" not in element.attrib:
            element.tag = "span"


def _rewrite_links(document: Document, ids: dict[str, str]) -> None:
    """A link to #id leads to file.xhtml#id when another document holds the id."""
    for tree in (document.section, *document.notes):
        for element in tree.iter("a"):
            href = element.get("href", "")
            if not href.startswith("#"):
                continue
            target = unquote(href[1:])
            held_by = ids.get(target)
            if held_by is not None and held_by != document.href:
                element.set("href", f"{held_by}#{quote(target, safe='')}")


def _take_pictures(document: Document, root: Path, pictures: dict[str, Item]) -> None:
    """Each picture of assets/ the document shows becomes a file of the publication."""
    for element in document.section.iter("img"):
        src = element.get("src", "")
        if URL_SCHEME.match(src):
            continue  # load.py admits no picture from outside the book
        # As load.py finds it: from the chapters' folder, or from the project's after one '/'.
        path = (
            root / src.lstrip("/") if src.startswith("/") else root / "chapters" / unquote(src)
        ).resolve()
        try:
            relative = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            raise BookError(
                root / "chapters",
                None,
                f"the picture '{src}' is outside the book",
                "keep pictures in assets/ and write their path as ../assets/NAME",
            ) from None
        item = _picture(path, relative)
        pictures.setdefault(item.href, item)
        element.set("src", item.href)


def _picture(path: Path, relative: str) -> Item:
    """A picture as a file of the EPUB: as it is in a core media type, else made a PNG.

    A reading system need show no other type (EPUB 3.3, core media types): a BMP or a TIFF,
    which print takes, would need a fallback; a PNG of it is one.
    """
    kind = PICTURE_TYPES.get(path.suffix.lower())
    if kind is not None:
        return Item(quote(relative), kind, path.read_bytes())
    from PIL import Image  # installed with WeasyPrint

    buffer = io.BytesIO()
    with Image.open(path) as image:
        image.save(buffer, "PNG")
    return Item(quote(relative) + ".png", "image/png", buffer.getvalue())


def _serialized_body(document: Document) -> str:
    body = serialize(document.section)
    if document.notes:
        body += (
            '\n<section class="footnotes" epub:type="footnotes" role="doc-endnotes"'
            ' aria-label="Notes">\n'
        )
        body += "\n".join(serialize(aside) for aside in document.notes) + "\n</section>"
    return body


def _shown_text(items: list[Item], info: BookInfo) -> str:
    """Every character the documents and the cover show: what the font subsets must hold.

    In capitals too: the stylesheet sets a few lines in capitals (text-transform), and so
    does the cover.
    """
    text = "".join("".join(ET.fromstring(item.data).itertext()) for item in items)
    text += "".join(cover_lines(info))
    return text + text.upper()


def _fonts(layout_dir: Path, text: str) -> tuple:
    from .webfonts import web_fonts

    return tuple(sorted(web_fonts(layout_dir, text), key=lambda font: font.filename))


def _stylesheet(layout_dir: Path, fonts) -> str:
    """The fonts' @font-face rules, then layout/epub.css and the code's colours."""
    from .webfonts import font_face_css

    faces = font_face_css(fonts, lambda font: f"fonts/{font.filename}")
    return "\n".join(
        [
            faces,
            (layout_dir / "epub.css").read_text(encoding="utf-8"),
            (layout_dir / "highlight.css").read_text(encoding="utf-8"),
        ]
    )


# --- Navigation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavEntry:
    """A line of the navigation's contents: its text, its link, the lines under it."""

    title: str
    href: str
    children: tuple[NavEntry, ...] = ()


def _toc(screen, documents: list[Document], ids: dict[str, str]) -> tuple[NavEntry, ...]:
    """Chapters and their sections, as the contents lists them; the index last."""

    def link(heading_id: str) -> str:
        return f"{ids[heading_id]}#{quote(heading_id, safe='')}"

    entries = []
    for entry in screen.contents:
        number = f"{entry.number}. " if entry.number else ""
        entries.append(
            NavEntry(
                number + entry.heading.title,
                link(entry.heading.id),
                tuple(
                    NavEntry(child.heading.title, link(child.heading.id))
                    for child in entry.children
                ),
            )
        )
    index = documents[-1].href
    if not any(entry.href.startswith(index + "#") for entry in entries):
        entries.append(NavEntry("Index", index))
    return tuple(entries)


def _page_list(screen, ids: dict[str, str]) -> tuple[NavEntry, ...]:
    """The printed pages, each a link to its marker: a reader can turn to "page 9"."""
    return tuple(
        NavEntry(page.label, f"{ids[page.id]}#{quote(page.id, safe='')}") for page in screen.pages
    )


# --- HTML into XHTML ---------------------------------------------------------------------------

VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
RAW_TAG_NAME = re.compile(r"<\s*([^\s/>]+)")
RAW_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""")


class _TreeBuilder(HTMLParser):
    """HTML (as Python-Markdown and the templates write it) into an ElementTree.

    Python's parser lowercases names; inside <svg>, where case matters (viewBox), the names
    are read back as written.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ET.Element("fragment")
        self.stack = [self.root]

    def handle_starttag(self, tag, attributes):
        element = self._element(tag, attributes)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attributes):
        self._element(tag, attributes)

    def _element(self, tag, attributes) -> ET.Element:
        raw = self.get_starttag_text() or ""
        if tag == "svg" or any(open_element.tag == "svg" for open_element in self.stack):
            name = RAW_TAG_NAME.match(raw)
            assert name is not None, raw  # the parser read a start tag
            tag = name[1]
            written = {
                name.lower(): name
                for name in RAW_ATTRIBUTE.findall(raw[raw.index(tag) + len(tag) :])
            }
            attributes = [(written.get(name, name), value) for name, value in attributes]
        element = ET.SubElement(
            self.stack[-1], tag, {name: value or "" for name, value in attributes}
        )
        return element

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag.lower() == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        parent = self.stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def parse_section(html: str) -> ET.Element:
    """The one element (a <section>) the HTML holds, as a tree."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    elements = list(builder.root)
    if len(elements) != 1:
        raise ValueError(f"expected one element, found {[element.tag for element in elements]}")
    return elements[0]


def inline_xhtml(markdown_text: str) -> str:
    """A short Markdown text of book.yml (the attribution) as XHTML, with no paragraph around it."""
    import markdown

    if not markdown_text.strip():
        return ""
    paragraph = parse_section(markdown.markdown(markdown_text, extensions=["smarty"]))
    paragraph.tag = "span"
    return serialize(paragraph)


def serialize(element: ET.Element) -> str:
    """The tree as XHTML: void elements closed in place, every other one with its end tag."""
    out: list[str] = []
    _write(element, out, in_svg=False)
    return "".join(out)


def _write(element: ET.Element, out: list[str], in_svg: bool) -> None:
    in_svg = in_svg or element.tag == "svg"
    attributes = "".join(
        f' {name}="{_escape(value, True)}"' for name, value in element.attrib.items()
    )
    empty = not len(element) and not element.text
    if empty and (element.tag in VOID or in_svg):
        out.append(f"<{element.tag}{attributes}/>")
    else:
        out.append(f"<{element.tag}{attributes}>{_escape(element.text or '')}")
        for child in element:
            _write(child, out, in_svg)
        out.append(f"</{element.tag}>")
    out.append(_escape(element.tail or ""))


#: Characters XML 1.0 forbids anywhere in a document: the C0 controls but tab and line ends.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape(text: str, attribute: bool = False) -> str:
    text = NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


# --- The cover ---------------------------------------------------------------------------------

COVER_WIDTH, COVER_HEIGHT, COVER_MARGIN = 1200, 1800, 120
COVER_RED, COVER_INK, COVER_GREY = "#7a1f1f", "#1a1a1a", "#333333"


def cover_description(info: BookInfo) -> str:
    """The cover's text alternative: what it says."""
    parts = [
        info.series,
        info.title,
        info.subtitle,
        info.author,
        f"{info.edition}, {info.date.year}",
    ]
    return "Cover: " + ". ".join(part.rstrip(".") for part in parts if part) + "."


def cover_lines(info: BookInfo) -> tuple[str, str, str, str, str]:
    """What the cover says: series (in capitals), title, subtitle, author, edition and year."""
    return (
        info.series.upper(),
        info.title,
        info.subtitle,
        info.author,
        f"{info.edition} · {info.date.year}",
    )


def cover_svg(info: BookInfo, fonts) -> bytes:
    """The cover as print draws it (layout/book.css, "Front matter"), its words drawn as the
    outlines of the book's sans-serif, the subsets the EPUB carries: a picture shows no font
    it does not hold itself."""
    faces = {weight: _Face(_sans(fonts, weight)) for weight in (400, 700)}
    faces[300], faces[600] = faces[400], faces[700]  # the weights the screen stylesheet has
    series, title, subtitle, author, edition = cover_lines(info)
    width = COVER_WIDTH - 2 * COVER_MARGIN
    shapes = [f'<rect width="{COVER_WIDTH}" height="56" fill="{COVER_RED}"/>']
    y = 300
    if series:
        shapes.append(faces[600].path(series, 34, COVER_MARGIN, y, COVER_RED, spacing=0.2))
        y += 130
    for line in faces[700].lines(title, 132, width):
        y += 128
        shapes.append(faces[700].path(line, 132, COVER_MARGIN, y, COVER_INK))
    y += 40
    for line in faces[300].lines(subtitle, 62, width):
        y += 82
        shapes.append(faces[300].path(line, 62, COVER_MARGIN, y, COVER_GREY))
    foot = COVER_HEIGHT - 250
    shapes.append(
        f'<rect x="{COVER_MARGIN}" y="{foot}" width="{width}" height="3" fill="{COVER_RED}"/>'
    )
    shapes.append(faces[400].path(author, 44, COVER_MARGIN, foot + 80, COVER_GREY))
    shapes.append(faces[400].path(edition, 44, COVER_MARGIN, foot + 145, COVER_GREY))
    description = _escape(cover_description(info), True)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="{SVG_NAMESPACE}" version="1.1" '
        f'viewBox="0 0 {COVER_WIDTH} {COVER_HEIGHT}" width="{COVER_WIDTH}" height="{COVER_HEIGHT}" '
        f'role="img" aria-label="{description}">\n<title>{_escape(info.title)}</title>\n'
        f'<rect width="{COVER_WIDTH}" height="{COVER_HEIGHT}" fill="#fdfcfa"/>\n'
        + "\n".join(shapes)
        + "\n</svg>\n"
    ).encode()


def _sans(fonts, weight: int) -> bytes:
    """The upright sans-serif face of the weight among the fonts, else the package's file."""
    for font in fonts:
        if font.family == "Source Sans Pro" and font.style == "normal" and font.weight == weight:
            return font.data
    from .fonts import font_directories

    name = f"SourceSansPro-{'Bold' if weight >= 600 else 'Regular'}.ttf"
    return next(
        folder / name for folder in font_directories() if (folder / name).is_file()
    ).read_bytes()


class _Face:
    """A font's glyph outlines and advances, to set a line of the cover as SVG paths."""

    def __init__(self, data: bytes):
        from fontTools.ttLib import TTFont

        self.font = TTFont(io.BytesIO(data))
        self.glyphs = self.font.getGlyphSet()
        self.cmap = self.font.getBestCmap()
        self.units = self.font["head"].unitsPerEm
        self.kerning = _pair_kerning(self.font)

    def _names(self, text: str) -> list[str]:
        return [self.cmap.get(ord(character), ".notdef") for character in text]

    def width(self, text: str, size: float, spacing: float = 0) -> float:
        names = self._names(text)
        advance = sum(self.glyphs[name].width for name in names)
        advance += sum(self.kerning.get(pair, 0) for pair in itertools.pairwise(names))
        return advance * size / self.units + spacing * size * len(text)

    def lines(self, text: str, size: float, width: float) -> list[str]:
        """The words in lines no wider than width."""
        lines: list[str] = []
        for word in text.split():
            if lines and self.width(lines[-1] + " " + word, size) <= width:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines

    def path(
        self, text: str, size: float, x: float, y: float, fill: str, spacing: float = 0
    ) -> str:
        """The text as one SVG path, its baseline at y."""
        from fontTools.pens.svgPathPen import SVGPathPen
        from fontTools.pens.transformPen import TransformPen

        pen = SVGPathPen(self.glyphs, ntos=lambda value: f"{value:.1f}".rstrip("0").rstrip("."))
        scale, cursor = size / self.units, x
        names = self._names(text)
        for name, following in zip(names, [*names[1:], ""], strict=True):
            self.glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, cursor, y)))
            cursor += (self.glyphs[name].width + self.kerning.get((name, following), 0)) * scale
            cursor += spacing * size
        return f'<path fill="{fill}" d="{pen.getCommands()}"/>'


def _pair_kerning(font) -> dict[tuple[str, str], int]:
    """The font's pair kerning (GPOS PairPos, format 1 and 2), so the cover's title is set tight."""
    pairs: dict[tuple[str, str], int] = {}
    if "GPOS" not in font:
        return pairs
    table = font["GPOS"].table
    for lookup in table.LookupList.Lookup:
        for subtable in lookup.SubTable:
            if lookup.LookupType == 9:
                subtable = subtable.ExtSubTable
            if getattr(subtable, "LookupType", lookup.LookupType) != 2:
                continue
            _add_pairs(subtable, pairs)
    return pairs


def _add_pairs(subtable, pairs: dict) -> None:
    firsts = subtable.Coverage.glyphs
    if subtable.Format == 1:
        for first, pair_set in zip(firsts, subtable.PairSet, strict=True):
            for record in pair_set.PairValueRecord:
                value = getattr(record.Value1, "XAdvance", 0) if record.Value1 else 0
                pairs.setdefault((first, record.SecondGlyph), value)
    elif subtable.Format == 2:
        classes1, classes2 = subtable.ClassDef1.classDefs, subtable.ClassDef2.classDefs
        seconds: dict[int, list[str]] = {}
        for glyph, number in classes2.items():
            seconds.setdefault(number, []).append(glyph)
        for first in firsts:
            row = subtable.Class1Record[classes1.get(first, 0)]
            for number, glyphs in seconds.items():
                record = row.Class2Record[number]
                value = getattr(record.Value1, "XAdvance", 0) if record.Value1 else 0
                if value:
                    for second in glyphs:
                        pairs.setdefault((first, second), value)


# --- The OCF zip -------------------------------------------------------------------------------


def ocf_zip(files: list[tuple[str, bytes]], epoch: int) -> bytes:
    """The EPUB container: mimetype first, stored; then the files in the order given, deflated.

    Every entry carries the book's date and the same attributes on any system, so that the
    same files make the same bytes.
    """
    stamp = datetime.datetime.fromtimestamp(max(epoch, 315532800), tz=datetime.UTC)  # zip: 1980+
    date_time = stamp.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("mimetype", date_time, zipfile.ZIP_STORED), MIMETYPE)
        for name, data in files:
            archive.writestr(_entry(name, date_time, zipfile.ZIP_DEFLATED), data, compresslevel=9)
    return buffer.getvalue()


def _entry(name: str, date_time, compression: int) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time)
    entry.compress_type = compression
    entry.create_system = 3  # Unix, as on the machines that build the book; Windows would say 0
    entry.external_attr = 0o644 << 16
    return entry
