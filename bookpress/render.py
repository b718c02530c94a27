"""Render stage: Markdown chapters and data files become HTML documents through Jinja."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import jinja2
import markdown
from markupsafe import Markup

from .backmatter import back_matter
from .errors import BookError, warn
from .extensions import (
    PAGE_LINK,
    SOURCE_BOX,
    SOURCE_TITLE,
    AlertExtension,
    AutoIndexExtension,
    BookLinks,
    CodeExtension,
    CodeLineFormatter,
    CrossReferenceExtension,
    FencedBlockExtension,
    HeadingIdExtension,
    HtmlBoxExtension,
    IdRegistry,
    IndexMarkExtension,
    KeyTermExtension,
    LinkExtension,
    PageFootnoteExtension,
    SourceBoxExtension,
    slugify,
)
from .imprint import licence_of
from .index import IndexGroup, unused_terms
from .model import Book, ChapterSource, ContentsEntry, Edition, Heading, RenderedChapter
from .pictures import PictureFigureExtension, credit_of, warn_uncredited
from .sanitize import (
    HTML_TAG,
    MAX_DEPTH,
    VOID_TAGS,
    Dropped,
    clean_html,
    depth_after,
    dropped_by_allow_list,
    html_elements,
)
from .sources import PICTURE_TYPES, URL_SCHEME, did_you_mean, numbered_lines
from .templates import numbered_blocks, render_template

INDEX_ID = "index"  # the index's heading; claimed before any chapter's

MARKDOWN_EXTENSIONS: list[str | markdown.Extension] = [
    "tables",
    "footnotes",
    "attr_list",
    "sane_lists",
    "smarty",
    "fenced_code",
    "codehilite",
    "md_in_html",
    CodeExtension(),
]
#: Code blocks (fenced and indented) highlighted by Pygments line by line: in the language the
#: fence names, never a guessed one (prose would come out coloured), and without line numbers.
MARKDOWN_CONFIGS = {
    "codehilite": {"pygments_formatter": CodeLineFormatter, "guess_lang": False, "linenums": False}
}


def render_chapters(
    book: Book, edition: Edition = Edition(), for_screen: bool = False
) -> tuple[RenderedChapter, ...]:
    """Every chapter as its own HTML document; heading ids are unique across the book.

    for_screen: for the web edition, where a web link is only a link, with no printed form.
    """
    registry = IdRegistry()
    registry.claim(INDEX_ID)
    links = BookLinks(book.chapters, None if for_screen else book.info.web_links)
    converter = markdown_converter(registry, book.index_terms, edition.dropped_blocks, links)
    environment = template_environment(book.layout_dir)
    environment.globals["convert_markdown"] = _snippet_converter(
        markdown_converter(registry, book.index_terms, edition.dropped_blocks, links)
    )
    figures = FigureNumbers(registry, for_screen)
    chapters = tuple(
        _render_chapter(book, chapter, converter, registry, environment, figures, links)
        for chapter in book.chapters
    )
    unused_terms(book.index_terms, [mark for chapter in chapters for mark in chapter.marks])
    chapters = tuple(figures.fill_references(chapter) for chapter in chapters)
    chapters += back_matter(book, chapters, registry, environment)
    chapters = resolve_links(chapters, links)
    warn_links_to_nowhere(chapters)
    if not for_screen:
        warn_low_resolution(chapters, edition)
    return chapters


# Inside a real tag: code that shows HTML holds the same words, its '<' escaped.
LINK_TARGET = re.compile(r'<a\b[^>]*\shref="#([^"]+)"')
ELEMENT_ID = re.compile(r'<[a-zA-Z][^>]*\sid="([^"]+)"')


def warn_links_to_nowhere(chapters) -> None:
    """A link to an id that no chapter has would lead nowhere in the PDF: say where it is."""
    ids = {INDEX_ID} | {
        htmllib.unescape(found)
        for chapter in chapters
        for found in ELEMENT_ID.findall(chapter.html)
    }
    for chapter in chapters:
        for target in dict.fromkeys(map(htmllib.unescape, LINK_TARGET.findall(chapter.html))):
            if target not in ids:
                warn(
                    chapter.source.path,
                    chapter.source.line_naming("#" + target),
                    f"the link to #{target} leads nowhere: no heading or figure has that id",
                    "link to a heading's id (see its {#id}) or to a figure's",
                )


# --- Links between chapters, and out of the book ------------------------------------------------

#: A link to a place in the book, as LinkTreeprocessor writes it (its class first).
PAGE_LINK_TAG = re.compile(rf'<a class="{PAGE_LINK}((?: [\w-]+)*)" href="#([^"]+)"([^>]*)>')
LOCAL = "local"  # the class of a link to a place in its own chapter: CSS prints its page


def resolve_links(chapters, links: BookLinks) -> tuple[RenderedChapter, ...]:
    """Links to chapters lead to their headings; each link to a place in the book is marked
    local (its page is CSS's) or not (typeset prints the page it found in a pass before)."""
    warn_links_out_of_the_book(chapters, links)
    by_path = {chapter.source.path: chapter for chapter in chapters}
    targets = {key: _chapter_link_target(link, by_path) for key, link in links.to_chapters.items()}
    ids = {chapter.source.path: set(ELEMENT_ID.findall(chapter.html)) for chapter in chapters}
    in_chapters = set().union(*ids.values())

    def resolved(chapter, html: str) -> str:
        def lead(match):
            classes, target = match[1].split(), targets.get(match[2], match[2])
            if target in ids[chapter.source.path]:
                classes = [PAGE_LINK, LOCAL, *classes]
            elif target in in_chapters:  # else it leads nowhere (warned below) and has no page
                classes = [PAGE_LINK, *classes]
            shown = f' class="{" ".join(classes)}"' if classes else ""
            return f'<a{shown} href="#{target}"{match[3]}>'

        return PAGE_LINK_TAG.sub(lead, html)

    return tuple(
        replace(
            chapter,
            html=resolved(chapter, chapter.html),
            section=resolved(chapter, chapter.section),
        )
        for chapter in chapters
    )


def warn_links_out_of_the_book(chapters, links: BookLinks) -> None:
    """A link to a file, or to a page of a site, would lead nowhere on paper: it was printed
    as plain text; say where it is."""
    sources = {chapter.source.path: chapter.source for chapter in chapters}
    names = [chapter.source.path.name for chapter in chapters]
    for path, href in links.outside:
        name = href.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
        warn(
            *_place_of(sources[path], href),
            f"the link to '{href[:120]}' leads out of the book; it is printed as plain text",
            did_you_mean(name, names)
            or f"link to a chapter listed in book.yml ({names[0]}, "
            f"{names[0]}#a-heading), to a heading (#its-id) or to a web page (https://…)",
        )


def _chapter_link_target(link, by_path) -> str:
    """The id a link to a chapter leads to: the section it names, else the chapter's title."""
    chapter = by_path[link.target]
    wanted = unquote(link.fragment)
    if not wanted:
        return chapter.headings[0].id
    for heading in chapter.headings:  # by the id the book gave it, or the site's slug
        if wanted == heading.id or _loose(wanted) == _loose(heading.title):
            return heading.id
    if wanted in chapter.targets:
        return wanted
    sections = [heading.id for heading in chapter.headings[1:]]
    warn(
        *_place_of(by_path[link.source].source, link.href),
        f"'{link.target.name}' has no heading '#{wanted}': the link leads to the chapter's title",
        did_you_mean(wanted, sections) or f"its headings' ids are: {', '.join(sections) or 'none'}",
    )
    return chapter.headings[0].id


def _loose(text: str) -> str:
    """A heading's words as a slug without separators: a site's slug of a heading may keep its
    accents (trotsky-in-méxico) or drop a dash (1922-1929) the book keeps."""
    return slugify(text).replace("-", "")


def _place_of(source: ChapterSource, text: str) -> tuple[Path, int | None]:
    """The file and line that hold text: the chapter's body, else its data file."""
    line = source.line_naming(text)
    if line is None and source.data_path is not None:
        lines = source.data_path.read_text(encoding="utf-8").split("\n")
        found = next((number for number, written in enumerate(lines, 1) if text in written), None)
        if found is not None:
            return source.data_path, found
    return source.path, line


class FigureNumbers:
    """Figures and sources numbered in reading order, and the references to them.

    Figures (drawn from data, or pictures of assets/) are numbered across the book, sources
    within their chapter ("Source 2.3"). for_screen: a source box is a <figure> for screens,
    a <section> (a /Sect of the PDF's tags) in print.
    """

    def __init__(self, registry: IdRegistry, for_screen: bool = False):
        self.registry = registry
        self.for_screen = for_screen
        self.by_name: dict[str, tuple[str, str]] = {}  # name in {@name} -> (element id, "Figure 2")
        self.counts = {"Figure": 0, "Table": 0}

    def _number(self, kind: str, name: str, element_id: str) -> int:
        self.counts[kind] += 1
        self.by_name[name] = (element_id, f"{kind} {self.counts[kind]}")
        return self.counts[kind]

    def insert(self, html: str, chapter: ChapterSource, environment) -> tuple[str, tuple[str, ...]]:
        """The chapter's HTML with each data figure drawn and each picture made a figure; and
        the ids of its figures."""
        drawn = dict(chapter.figures)
        ids: list[str] = []

        def draw(match):
            if match["picture"]:
                return self._picture(match, chapter, environment, ids)
            tag = match[1] or match[2]
            attributes = _attributes(tag)
            figure = drawn.get(attributes.get("src"))
            if figure is None:
                return match[0]
            name = attributes.get("id") or Path(attributes["src"]).stem
            figure_id = self.registry.claim(attributes.get("id") or f"figure-{name}")
            number = self._number("Figure", name, figure_id)
            ids.append(figure_id)
            return render_template(
                environment,
                "_figure.html",
                {
                    "figure": figure,
                    "figure_id": figure_id,
                    "number": number,
                    "alt": attributes.get("alt", ""),
                    "caption": attributes.get("title", ""),
                },
                chapter,
            )

        return FIGURES.sub(draw, html), tuple(ids)

    def _picture(self, match, chapter: ChapterSource, environment, ids: list) -> str:
        """A picture alone in its paragraph as a numbered figure, with its caption and credit."""
        attributes = _attributes(match["picture"])
        src, stem = attributes.get("src", ""), Path(unquote(attributes.get("src", ""))).stem
        figure_id = self.registry.claim(attributes.get("id") or f"figure-{slugify(stem)}")
        number = self._number("Figure", attributes.get("id") or stem, figure_id)
        self.by_name.setdefault(stem, self.by_name[attributes.get("id") or stem])
        ids.append(figure_id)
        credit_html, credit_url = match["credit"], ""
        if credit_html is None and (credit := credit_of(_picture_file(chapter, src))) is not None:
            credit_html, credit_url = htmllib.escape(credit.text), credit.url
        if credit_html is None and not self.for_screen:  # once: print renders before screens
            warn_uncredited(*_source_place(chapter, re.escape(src)), src)
        credit_text = htmllib.unescape(re.sub(r"<[^>]+>", "", credit_html or ""))
        return render_template(
            environment,
            "_picture.html",
            {
                "figure_id": figure_id,
                "number": number,
                "src": src,
                "alt": attributes.get("alt", ""),
                "caption": attributes.get("title", ""),
                "credit": Markup(credit_html or ""),
                "credit_text": " ".join(credit_text.split()),
                "credit_url": credit_url,
            },
            chapter,
        )

    def number_sources(self, html: str, chapter: ChapterSource) -> tuple[str, tuple[str, ...]]:
        """Each source box numbered in its chapter, its heading saying so ("Source 2.3"), and
        made the element that groups it: a <section> in print, a <figure> on screens."""
        ids, boxes = [], []
        for count, match in enumerate(SOURCE_BOX_TAG.finditer(html), start=1):
            label = f"Source {chapter.number}.{count}" if chapter.number else f"Source {count}"
            self.by_name[match["id"]] = (match["id"], label)
            ids.append(match["id"])
            boxes.append((match, _element_end(html, match.start()), label))
        tag = "figure" if self.for_screen else "section"
        for match, end, label in reversed(boxes):  # from the end: the places before stay
            inner = html[match.end() : end - len("</div>")]
            inner = SOURCE_TITLE_TAG.sub(_labelled(label), inner, count=1)
            described = (
                PROVENANCE_TAG.search(inner)
                and f' aria-describedby="{match["id"]}-provenance"'
                or ""
            )
            inner = PROVENANCE_TAG.sub(rf'\1 id="{match["id"]}-provenance"', inner, count=1)
            html = (
                f'{html[: match.start()]}<{tag} class="{SOURCE_BOX}" id="{match["id"]}" '
                f'aria-labelledby="{match["id"]}-title"{described}>{inner}</{tag}>{html[end:]}'
            )
        return html, tuple(ids)

    def number_tables(self, section: str) -> tuple[str, tuple[str, ...]]:
        """Captioned tables (drawn by a chapter's template) numbered: 'Table 1. …'."""
        ids = []

        def label(match):
            number = self._number("Table", match[2], match[2])
            ids.append(match[2])
            return f'{match[1]}<span class="figure-label">Table {number}.</span> '

        return CAPTIONED_TABLE.sub(label, section), tuple(ids)

    def fill_references(self, chapter: RenderedChapter) -> RenderedChapter:
        def label(match):
            if match[1] not in self.by_name:  # a picture in a sentence: load knew only its name
                if not self.for_screen:
                    warn(
                        *_source_place(chapter.source, re.escape("{@" + match[1] + "}")),
                        f"{{@{match[1]}}} names a picture that is not a figure",
                        "give the picture a paragraph of its own, with a blank line before and "
                        "after",
                    )
                return match[1]
            target_id, text = self.by_name[match[1]]
            return f'<a class="xref" href="#{target_id}">{text}</a>'

        return replace(
            chapter, html=XREF.sub(label, chapter.html), section=XREF.sub(label, chapter.section)
        )


def _attributes(tag: str) -> dict[str, str]:
    return {name: htmllib.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def _element_end(html: str, start: int) -> int:
    """Where the element that opens at start ends, after its closing tag."""
    depth = 0
    for found in HTML_TAG.finditer(html, start):
        closing, tag, self_closing = found.groups()
        if tag.lower() in VOID_TAGS or self_closing:
            continue
        depth += -1 if closing else 1
        if depth == 0:
            return found.end()
    return len(html)


FIGURE_TAG = re.compile(r"<p>\s*(<img\b[^>]*\.ya?ml\"[^>]*>)\s*</p>|(<img\b[^>]*\.ya?ml\"[^>]*>)")
#: A picture alone in its paragraph, as pictures.PictureFigureTreeprocessor marks it.
PICTURE_TAG = re.compile(
    r'<p class="picture">\s*(?P<picture><img\b[^>]*>)\s*'
    r'(?:<span class="credit">(?P<credit>.*?)</span>)?\s*</p>',
    re.DOTALL,
)
FIGURES = re.compile(f"{FIGURE_TAG.pattern}|{PICTURE_TAG.pattern}", re.DOTALL)
SOURCE_BOX_TAG = re.compile(rf'<div class="{SOURCE_BOX}" id="(?P<id>[^"]+)">')
SOURCE_TITLE_TAG = re.compile(rf'(<h\d class="{SOURCE_TITLE}"[^>]*>)Source(</h\d>)')
PROVENANCE_TAG = re.compile(r'(<p class="provenance")')
CAPTIONED_TABLE = re.compile(r'(<table\b[^>]*\bid="([\w-]+)"[^>]*>\s*<caption>)')
XREF = re.compile(r'<a class="xref" href="#([\w-]+)">[\w-]+</a>')


def markdown_converter(
    registry: IdRegistry, index_terms=(), dropped_blocks=frozenset(), links: BookLinks | None = None
) -> markdown.Markdown:
    """Python-Markdown with the book's extensions; ids are claimed in the registry."""
    return markdown.Markdown(
        extension_configs=MARKDOWN_CONFIGS,
        extensions=[
            *MARKDOWN_EXTENSIONS,
            FencedBlockExtension(dropped_blocks),
            PageFootnoteExtension(registry),
            CrossReferenceExtension(),
            LinkExtension(registry, links or BookLinks()),
            HtmlBoxExtension(),
            AlertExtension(),
            IndexMarkExtension(registry),
            AutoIndexExtension(registry, index_terms),
            HeadingIdExtension(registry),
            KeyTermExtension(registry),
            SourceBoxExtension(registry),
            PictureFigureExtension(),
        ],
    )


def _render_chapter(
    book, chapter: ChapterSource, converter, registry, environment, figures, links: BookLinks
) -> RenderedChapter:
    registry.start_document()
    links.start_document(chapter.path)
    title = Heading(1, registry.claim(chapter.slug), chapter.title)
    converter.reset()
    body_html = clean_reported(converter.convert(without_repeated_title(chapter)), chapter)
    check_nesting(body_html, chapter.path)
    body_html, figure_ids = figures.insert(body_html, chapter, environment)
    body_html, source_ids = figures.number_sources(body_html, chapter)
    context = {
        "book": book.info,
        "chapter": chapter,
        "title_id": title.id,
        "body_html": Markup(body_html),
        "data": chapter.data,
    }
    section, table_ids = figures.number_tables(
        render_template(environment, "_chapter.html", context, chapter)
    )
    section = numbered_blocks(section, title.id)
    headings, marks = (title, *registry.headings), tuple(registry.marks)  # data text included
    html = render_template(
        environment, "chapter.html", {**context, "section": Markup(section)}, chapter
    )
    return RenderedChapter(
        source=chapter,
        html=html,
        section=section,
        headings=headings,
        marks=marks,
        targets=figure_ids + source_ids + table_ids,
    )


ATX_HEADING = re.compile(r"^ {0,3}#(?!#)[ \t]*(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT_RULE = re.compile(r"^ {0,3}=+[ \t]*$")
ATTRIBUTE_LIST = re.compile(r"\s*\{[^}]*\}\s*$")
#: Typographers' quotes and dashes as typed on a keyboard, so that "Stalin’s" is "Stalin's".
PLAIN_PUNCTUATION = str.maketrans("‘’‚‛“”„–—", "''''\"\"\"--")


def without_repeated_title(chapter: ChapterSource) -> str:
    """The body without a first heading that repeats the title: '# The Gulag' under 'title:'.

    A page of a website carries its title both ways; the book prints it from the front
    matter, and would print it twice. The line is left blank: the others keep their numbers.
    """
    lines = chapter.body.split("\n")
    first = next((number for number, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return chapter.body
    atx = ATX_HEADING.match(lines[first])
    setext = not atx and first + 1 < len(lines) and SETEXT_RULE.match(lines[first + 1])
    if not (atx or setext) or _plain(atx["text"] if atx else lines[first]) != _plain(chapter.title):
        return chapter.body
    heading_lines = 1 if atx else 2
    lines[first : first + heading_lines] = [""] * heading_lines
    return "\n".join(lines)


def _plain(text: str) -> str:
    """A title as compared: no {attribute list}, emphasis, typographers' quotes, or case."""
    text = htmllib.unescape(ATTRIBUTE_LIST.sub("", text)).translate(PLAIN_PUNCTUATION)
    text = re.sub(r"[*_`]", "", text.replace("…", "...")).replace("--", "-")
    return " ".join(text.split()).casefold()


def render_front_matter(book: Book, contents: tuple[ContentsEntry, ...], timestamp: str) -> str:
    """Cover, title page, colophon and contents, with the page numbers layout found."""
    environment = template_environment(book.layout_dir)
    return render_template(
        environment,
        "front.html",
        {
            "book": book.info,
            "contents": contents,
            "timestamp": timestamp,
            "licence": licence_of(book.info),
        },
    )


def render_index(book: Book, groups: tuple[IndexGroup, ...]) -> tuple[str, str]:
    """The index as a document of its own and as a section of the whole book."""
    environment = template_environment(book.layout_dir)
    context = {
        "book": book.info,
        "groups": groups,
        "title_id": INDEX_ID,
        "entry_id": index_entry_id,
    }
    section = render_template(environment, "_index.html", context)
    return render_template(
        environment, "index.html", {**context, "section": Markup(section)}
    ), section


def index_entry_id(heading: str) -> str:
    """An index entry's id, which its "See" references link to: the heading's words in plain
    letters, so that quotation marks or brackets in a term never reach the id (WeasyPrint
    ignores an anchor whose id holds a straight double quote)."""
    return f"index-{slugify(heading)}"


def render_web_edition(book: Book, chapters, contents, groups) -> str:
    """The whole book as one page for screens: linked contents, the index linking to the text."""
    environment = template_environment(book.layout_dir)
    _, index_section = render_index(book, groups)
    sections = [Markup(embedded_pictures(chapter.section, book.root)) for chapter in chapters]
    sections.append(Markup(index_section))
    return render_template(
        environment, "web.html", {"book": book.info, "contents": contents, "sections": sections}
    )


PICTURE_SOURCE = re.compile(r'(<img\b[^>]*\ssrc=")\.\./(assets/[^"]+)(")')


def embedded_pictures(html: str, root: Path) -> str:
    """The web edition is one file to send or open anywhere: its pictures go inside it."""
    import base64
    from urllib.parse import unquote

    def embed(match: re.Match) -> str:
        path = root / unquote(htmllib.unescape(match[2]))
        kind = PICTURE_TYPES.get(path.suffix.lower(), "application/octet-stream")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"{match[1]}data:{kind};base64,{data}{match[3]}"

    return PICTURE_SOURCE.sub(embed, html)


def render_blank_page(book: Book) -> str:
    """A page with nothing on it, to make the next chapter start on a right-hand page."""
    return render_template(template_environment(book.layout_dir), "blank.html", {"book": book.info})


def render_back_cover(book: Book) -> str:
    """The outside of the last leaf, for editions that are folded and stapled."""
    return render_template(
        template_environment(book.layout_dir), "back-cover.html", {"book": book.info}
    )


def template_environment(layout_dir: Path) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layout_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["markdown"] = _markdown_filter
    environment.filters["inline_markdown"] = _inline_markdown_filter
    return environment


@jinja2.pass_context
def _markdown_filter(context, text: str) -> Markup:
    """Markdown in a data file's text, as paragraphs; in a chapter, index terms are marked too."""
    convert = context.get("convert_markdown") or _plain_markdown
    return Markup(convert(str(text), context.get("chapter")))


@jinja2.pass_context
def _inline_markdown_filter(context, text: str) -> Markup:
    """The same for a short text inside a heading or a table cell: no paragraph around it."""
    html = _markdown_filter(context, text)
    return Markup(html.removeprefix("<p>").removesuffix("</p>"))


def _plain_markdown(text: str, chapter: ChapterSource | None = None) -> str:
    return clean_reported(markdown.markdown(text, extensions=["smarty"]), chapter)


def check_nesting(html: str, path: Path) -> None:
    """Refuse HTML nested deeper than any book needs, before layout recurses into it."""
    if depth_after(html)[1] > MAX_DEPTH:
        raise BookError(
            path,
            None,
            f"the chapter's HTML is nested more than {MAX_DEPTH} elements deep",
            "remove the nested <div> or list levels; Markdown rarely needs more than a few",
        )


def _snippet_converter(converter: markdown.Markdown):
    """Convert short texts one by one; their marks and ids go to the chapter being rendered."""

    def convert(text: str, chapter: ChapterSource | None = None) -> str:
        converter.reset()
        return clean_reported(converter.convert(text), chapter)

    return convert


# --- Pictures: how large they print, and whether that is sharp --------------------------------

#: A picture's pixel is a CSS px, 1/96 inch, as WeasyPrint (and a browser) draws it: a picture
#: prints at that size or smaller, never larger (layout/book.css, "Pictures").
REFERENCE_DPI = 96
PRINT_DPI = 150  # below this, a printed picture looks soft
#: The text block of each page, (width, height) in mm: the paper less the margins of
#: layout/book.css (A4, Letter), small-page.css (the booklet's A5, half-letter) and
#: large-print.css. tests/test_pictures.py lays pictures out in each and measures them.
TEXT_BLOCKS_MM = {
    ("a4", False): (152, 251),
    ("letter", False): (157.9, 233.4),
    ("a5", False): (112, 175),
    ("half-letter", False): (103.7, 180.9),
    ("a4", True): (166, 253),
    ("letter", True): (171.9, 235.4),
}
PICTURE_HEIGHT = 0.9  # of the text block's height: book.css's max-height: 90vh
#: A picture figure (a picture alone in its paragraph) leaves room for text on its page:
#: book.css's figure.picture img { max-height: 50vh }.
FIGURE_PICTURE_HEIGHT = 0.5
PAGE_NAMES = {"a4": "A4", "letter": "US Letter", "a5": "A5", "half-letter": "half-letter"}


def printed_size_mm(
    pixels: tuple[int, int], edition: Edition, height: float = PICTURE_HEIGHT
) -> tuple[float, float]:
    """(width, height) a picture of so many pixels prints at in the edition, as book.css
    sizes it: its own size, made smaller to the column's width and to height (a share of
    the page's)."""
    scale = min(25.4 / REFERENCE_DPI, largest_width_mm(pixels, edition, height) / pixels[0])
    return pixels[0] * scale, pixels[1] * scale


def largest_width_mm(
    pixels: tuple[int, int], edition: Edition, height: float = PICTURE_HEIGHT
) -> float:
    """The widest a picture of these proportions prints: across the column, or less where
    it would be taller than the page allows."""
    column, page = TEXT_BLOCKS_MM[edition.paper, edition.large_print]
    return min(column, page * height * pixels[0] / pixels[1])


def warn_low_resolution(chapters, edition: Edition) -> None:
    """A warning for each picture that prints at fewer than PRINT_DPI in this edition.

    Its width is taken as the column's at most: in a box, a little narrower, it is sharper.
    """
    seen: set[Path] = set()
    for chapter in chapters:
        in_figures = {htmllib.unescape(src) for src in FIGURE_PICTURE_SOURCE.findall(chapter.html)}
        for tag, attributes in html_elements(chapter.html):
            src = attributes.get("src", "") if tag == "img" else ""
            picture = _picture_file(chapter.source, src)
            if picture is None or picture in seen:
                continue
            seen.add(picture)
            height = FIGURE_PICTURE_HEIGHT if src in in_figures else PICTURE_HEIGHT
            if problem := _resolution_problem(picture, src, edition, height):
                warn(*_source_place(chapter.source, re.escape(picture.name)), *problem)


def _picture_file(chapter: ChapterSource, src: str) -> Path | None:
    """The raster picture a src names (load has checked that it is a file in assets/)."""
    if not src or URL_SCHEME.match(src):
        return None
    path = (chapter.path.parent / unquote(src)).resolve()
    return path if path.suffix.lower() not in (".svg", ".yml", ".yaml") and path.is_file() else None


#: The picture of a picture figure (layout/_picture.html).
FIGURE_PICTURE_SOURCE = re.compile(r'<figure class="picture"[^>]*>\s*<img\b[^>]*\ssrc="([^"]+)"')


def _resolution_problem(
    picture: Path, src: str, edition: Edition, height: float = PICTURE_HEIGHT
) -> tuple[str, str] | None:
    from PIL import Image  # installed with WeasyPrint; only needed when a chapter has pictures

    with Image.open(picture) as image:
        pixels = image.size
    width_mm = printed_size_mm(pixels, edition, height)[0]
    dpi = pixels[0] / (width_mm / 25.4)
    if dpi >= PRINT_DPI - 0.5:  # what would be shown as 150
        return None
    page = PAGE_NAMES[edition.paper] + (" in large print" if edition.large_print else "")
    largest_mm = largest_width_mm(pixels, edition, height)
    wanted = round(largest_mm / 25.4 * PRINT_DPI)
    return (
        f"the picture '{src}' ({pixels[0]} × {pixels[1]} pixels) prints {width_mm:.0f} mm "
        f"wide on {page}, at {dpi:.0f} dpi: it will look soft (print needs about {PRINT_DPI})",
        f"a copy with more pixels prints larger and sharper: one at least {wanted} pixels "
        f"wide prints {largest_mm:.0f} mm wide, as large as this page allows, "
        f"at {PRINT_DPI} dpi",
    )


# --- What the allow-list leaves out, said with its place -------------------------------------

#: A class in a selector (a number such as 1.5em has a digit after its dot).
CSS_CLASS = re.compile(r"\.(-?[A-Za-z_][\w-]*)")
#: What a stylesheet holds that is not a selector and may hold a dot: comments, strings, URLs.
CSS_NOT_SELECTORS = re.compile(r"/\*.*?\*/|\"[^\"]*\"|'[^']*'|url\([^)]*\)", re.DOTALL)
PLAIN_MARKDOWN_HINTS = {
    "b": "write **bold** instead",
    "i": "write *italics* instead",
    "u": "write *italics* instead",
    "center": "remove it: the layout places the text",
    "font": "remove it: the book's type is set in layout/book.css",
}


def clean_reported(html: str, chapter: ChapterSource | None) -> str:
    """clean_html, after a warning for each thing it will leave out and each class that
    no stylesheet of layout/ styles: nothing the author wrote goes missing silently."""
    for dropped in dropped_by_allow_list(html):
        warn(*_dropped_place(chapter, dropped), *_dropped_message(dropped))
    if chapter is not None:
        warn_unstyled_classes(html, chapter)
    return clean_html(html)


def _dropped_message(dropped: Dropped) -> tuple[str, str]:
    if dropped.attribute is None and dropped.with_content:
        return (f"<{dropped.tag}> is left out of the book, with everything in it", "remove it")
    if dropped.attribute is None:
        return (
            f"<{dropped.tag}> is left out of the book: what it holds prints as ordinary text",
            PLAIN_MARKDOWN_HINTS.get(dropped.tag)
            or "remove the tags, or use what the book knows: Markdown, <aside>, <details>, "
            "<figure>, or a box (::: review)",
        )
    shown = dropped.value if len(dropped.value) <= 40 else dropped.value[:40] + "…"
    written = f'{dropped.attribute}="{shown}" on <{dropped.tag}>'
    if dropped.tag == "img" and dropped.attribute in ("width", "height"):
        return (
            f"{written} is left out: a picture prints at its own size (a pixel is 1/96 inch), "
            "never wider than the column",
            "remove it (see Pictures in README.md)",
        )
    if dropped.attribute == "style":
        return (
            f"{written} is left out: the book's look comes from layout/*.css",
            "remove it; Markdown (*italics*, **bold**) or a box says the same",
        )
    return f"{written} is left out of the book", f"remove {dropped.attribute}=…"


def _dropped_place(chapter: ChapterSource | None, dropped: Dropped) -> tuple[Path, int | None]:
    if chapter is None:
        return Path("chapters/book.yml"), None
    if dropped.attribute is None:
        return _source_place(chapter, rf"<\s*{re.escape(dropped.tag)}\b")
    name, tag = re.escape(dropped.attribute), re.escape(dropped.tag)
    return _source_place(chapter, rf"<\s*{tag}\b[^>]*\s{name}\b|\{{[^}}\n]*\b{name}\s*=")


def warn_unstyled_classes(html: str, chapter: ChapterSource) -> None:
    """A class the chapter gives an element (class="…", {: .name }, ::: name) that no rule
    of layout/ styles changes nothing in print: the teacher meant something by it."""
    styled = styled_classes(chapter.path.parent.parent / "layout")
    named = {
        name: tag
        for tag, attributes in html_elements(html)
        for name in attributes.get("class", "").split()
        if name not in styled
    }
    for name, tag in named.items():
        written = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
        path, line = _source_place(
            chapter,
            rf"class\s*=\s*[\"']?[^\"'>]*{written}"
            rf"|\{{[^}}\n]*\.{written}|^:::[ \t]*{written}",
        )
        if line is not None:
            warn(
                path,
                line,
                f"the class '{name}' (on <{tag}>) is styled by no rule of layout/: "
                "it changes nothing in print",
                f"remove it, or give .{name} a rule in layout/book.css",
            )


def styled_classes(layout_dir: Path) -> frozenset[str]:
    """Every class a selector of the stylesheets in layout/ names."""
    names: set[str] = set()
    for stylesheet in sorted(layout_dir.glob("*.css")):
        text = CSS_NOT_SELECTORS.sub(" ", stylesheet.read_text(encoding="utf-8"))
        names.update(CSS_CLASS.findall(text))
    return frozenset(names)


def _source_place(chapter: ChapterSource, pattern: str) -> tuple[Path, int | None]:
    """The first line of the chapter's Markdown that matches: its body, else its data file."""
    found = re.compile(pattern, re.IGNORECASE)
    for number, line in numbered_lines(chapter.body, chapter.body_line):
        if found.search(line):
            return chapter.path, number
    if chapter.data_path is not None:
        lines = chapter.data_path.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, start=1):
            if found.search(line):
                return chapter.data_path, number
    return chapter.path, None


def _labelled(label: str):
    """For re.sub: a source box's title tag with the label as its text."""
    return lambda title: f"{title[1]}{label}{title[2]}"
