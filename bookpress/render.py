"""Render stage: Markdown chapters and data files become HTML documents through Jinja."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import replace
from pathlib import Path

import jinja2
import markdown
from markupsafe import Markup

from .errors import BookError, warn
from .extensions import (AutoIndexExtension, CrossReferenceExtension, FencedBlockExtension, HeadingIdExtension,
                         IdRegistry, IndexMarkExtension, PageFootnoteExtension)
from .index import IndexGroup, unused_terms
from .sanitize import MAX_DEPTH, clean_html, depth_after
from .model import Book, ChapterSource, ContentsEntry, Edition, Heading, RenderedChapter

INDEX_ID = "index"  # the index's heading; claimed before any chapter's

MARKDOWN_EXTENSIONS = ["tables", "footnotes", "attr_list", "sane_lists", "smarty"]


def render_chapters(book: Book, edition: Edition = Edition()) -> tuple[RenderedChapter, ...]:
    """Every chapter as its own HTML document; heading ids are unique across the book."""
    registry = IdRegistry()
    registry.claim(INDEX_ID)
    converter = markdown_converter(registry, book.index_terms, edition.dropped_blocks)
    environment = template_environment(book.layout_dir)
    environment.globals["convert_markdown"] = _snippet_converter(
        markdown_converter(registry, book.index_terms, edition.dropped_blocks))
    figures = FigureNumbers(registry)
    chapters = tuple(_render_chapter(book, chapter, converter, registry, environment, figures)
                     for chapter in book.chapters)
    unused_terms(book.index_terms, [mark for chapter in chapters for mark in chapter.marks])
    chapters = tuple(figures.fill_references(chapter) for chapter in chapters)
    warn_links_to_nowhere(chapters)
    return chapters


LINK_TARGET = re.compile(r'href="#([^"]+)"')
ELEMENT_ID = re.compile(r'\sid="([^"]+)"')


def warn_links_to_nowhere(chapters) -> None:
    """A link to an id that no chapter has would lead nowhere in the PDF: say where it is."""
    ids = {INDEX_ID} | {htmllib.unescape(found) for chapter in chapters for found in ELEMENT_ID.findall(chapter.html)}
    for chapter in chapters:
        for target in dict.fromkeys(map(htmllib.unescape, LINK_TARGET.findall(chapter.html))):
            if target not in ids:
                warn(chapter.source.path, chapter.source.line_naming("#" + target),
                     f"the link to #{target} leads nowhere: no heading or figure has that id",
                     "link to a heading's id (see its {#id}) or to a figure's")


class FigureNumbers:
    """Figures numbered in reading order across the book, and the references to them."""

    def __init__(self, registry: IdRegistry):
        self.registry = registry
        self.by_name: dict[str, tuple[str, str]] = {}  # name in {@name} -> (element id, "Figure 2")
        self.counts = {"Figure": 0, "Table": 0}

    def _number(self, kind: str, name: str, element_id: str) -> int:
        self.counts[kind] += 1
        self.by_name[name] = (element_id, f"{kind} {self.counts[kind]}")
        return self.counts[kind]

    def insert(self, html: str, chapter: ChapterSource, environment) -> tuple[str, tuple[str, ...]]:
        """The chapter's HTML with each data figure drawn; and the ids of its figures."""
        drawn = dict(chapter.figures)
        ids = []

        def draw(match):
            tag = match[1] or match[2]
            attributes = {name: htmllib.unescape(value) for name, value in re.findall(r'(\w+)="([^"]*)"', tag)}
            figure = drawn.get(attributes.get("src"))
            if figure is None:
                return match[0]
            name = attributes.get("id") or Path(attributes["src"]).stem
            figure_id = self.registry.claim(attributes.get("id") or f"figure-{name}")
            number = self._number("Figure", name, figure_id)
            ids.append(figure_id)
            return _render_template(environment, "_figure.html", {
                "figure": figure, "figure_id": figure_id, "number": number,
                "alt": attributes.get("alt", ""), "caption": attributes.get("title", "")}, chapter)

        return FIGURE_TAG.sub(draw, html), tuple(ids)

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
            target_id, text = self.by_name[match[1]]
            return f'<a class="xref" href="#{target_id}">{text}</a>'
        return replace(chapter, html=XREF.sub(label, chapter.html), section=XREF.sub(label, chapter.section))


FIGURE_TAG = re.compile(r"<p>\s*(<img\b[^>]*\.ya?ml\"[^>]*>)\s*</p>|(<img\b[^>]*\.ya?ml\"[^>]*>)")
CAPTIONED_TABLE = re.compile(r'(<table\b[^>]*\bid="([\w-]+)"[^>]*>\s*<caption>)')
XREF = re.compile(r'<a class="xref" href="#([\w-]+)">[\w-]+</a>')


def markdown_converter(registry: IdRegistry, index_terms=(), dropped_blocks=frozenset()) -> markdown.Markdown:
    """Python-Markdown with the book's extensions; ids are claimed in the registry."""
    return markdown.Markdown(extensions=[
        *MARKDOWN_EXTENSIONS, FencedBlockExtension(dropped_blocks), PageFootnoteExtension(registry),
        CrossReferenceExtension(),
        IndexMarkExtension(registry), AutoIndexExtension(registry, index_terms), HeadingIdExtension(registry)])


def _render_chapter(book, chapter: ChapterSource, converter, registry, environment, figures) -> RenderedChapter:
    registry.start_document()
    title = Heading(1, registry.claim(chapter.slug), chapter.title)
    converter.reset()
    body_html = clean_html(converter.convert(chapter.body))
    check_nesting(body_html, chapter.path)
    body_html, figure_ids = figures.insert(body_html, chapter, environment)
    context = {"book": book.info, "chapter": chapter, "title_id": title.id,
               "body_html": Markup(body_html), "data": chapter.data}
    section, table_ids = figures.number_tables(_render_template(environment, "_chapter.html", context, chapter))
    headings, marks = (title, *registry.headings), tuple(registry.marks)  # data text included
    html = _render_template(environment, "chapter.html", {**context, "section": Markup(section)}, chapter)
    return RenderedChapter(source=chapter, html=html, section=section, headings=headings, marks=marks,
                           targets=figure_ids + table_ids)


def render_front_matter(book: Book, contents: tuple[ContentsEntry, ...], timestamp: str) -> str:
    """Cover, title page, colophon and contents, with the page numbers layout found."""
    environment = template_environment(book.layout_dir)
    return _render_template(environment, "front.html",
                            {"book": book.info, "contents": contents, "timestamp": timestamp})


def render_index(book: Book, groups: tuple[IndexGroup, ...]) -> tuple[str, str]:
    """The index as a document of its own and as a section of the whole book."""
    environment = template_environment(book.layout_dir)
    context = {"book": book.info, "groups": groups, "title_id": INDEX_ID}
    section = _render_template(environment, "_index.html", context)
    return _render_template(environment, "index.html", {**context, "section": Markup(section)}), section


def render_web_edition(book: Book, chapters, contents, groups) -> str:
    """The whole book as one page for screens: linked contents, the index linking to the text."""
    environment = template_environment(book.layout_dir)
    _, index_section = render_index(book, groups)
    sections = [Markup(chapter.section) for chapter in chapters] + [Markup(index_section)]
    return _render_template(environment, "web.html", {"book": book.info, "contents": contents, "sections": sections})


def render_blank_page(book: Book) -> str:
    """A page with nothing on it, to make the next chapter start on a right-hand page."""
    return _render_template(template_environment(book.layout_dir), "blank.html", {"book": book.info})


def render_back_cover(book: Book) -> str:
    """The outside of the last leaf, for editions that are folded and stapled."""
    return _render_template(template_environment(book.layout_dir), "back-cover.html", {"book": book.info})


def render_whole_book(book: Book, front_html: str, sections: list[str]) -> str:
    """The whole book as one HTML document, as a plain WeasyPrint render would take it."""
    environment = template_environment(book.layout_dir)
    return _render_template(environment, "book.html", {
        "book": book.info, "front": Markup(_body_of(front_html)), "sections": [Markup(s) for s in sections]})


def template_environment(layout_dir: Path) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layout_dir), autoescape=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["markdown"] = _markdown_filter
    environment.filters["inline_markdown"] = _inline_markdown_filter
    return environment


@jinja2.pass_context
def _markdown_filter(context, text: str) -> Markup:
    """Markdown in a data file's text, as paragraphs; in a chapter, index terms are marked too."""
    convert = context.get("convert_markdown") or _plain_markdown
    return Markup(convert(str(text)))


@jinja2.pass_context
def _inline_markdown_filter(context, text: str) -> Markup:
    """The same for a short text inside a heading or a table cell: no paragraph around it."""
    html = _markdown_filter(context, text)
    return Markup(html.removeprefix("<p>").removesuffix("</p>"))


def _plain_markdown(text: str) -> str:
    return clean_html(markdown.markdown(text, extensions=["smarty"]))


def check_nesting(html: str, path: Path) -> None:
    """Refuse HTML nested deeper than any book needs, before layout recurses into it."""
    if depth_after(html)[1] > MAX_DEPTH:
        raise BookError(path, None, f"the chapter's HTML is nested more than {MAX_DEPTH} elements deep",
                        "remove the nested <div> or list levels; Markdown rarely needs more than a few")


def _snippet_converter(converter: markdown.Markdown):
    """Convert short texts one by one; their marks and ids go to the chapter being rendered."""
    def convert(text: str) -> str:
        converter.reset()
        return clean_html(converter.convert(text))
    return convert


def _render_template(environment, name: str, context: dict, chapter: ChapterSource | None = None) -> str:
    try:
        return environment.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as error:
        raise BookError(Path(error.filename or name), error.lineno, f"template error: {error.message}") from None
    except jinja2.UndefinedError as error:
        template, line = _template_place(error, name)
        where = chapter.data_path if chapter is not None and chapter.data_path else Path("layout") / template
        raise BookError(where, None, f"the template {template} (line {line}) needs a value that is missing: {error.message}",
                        "check that every entry of the data file has all the keys the template uses") from None
    except jinja2.TemplateNotFound as error:
        raise BookError(Path("layout") / str(error.name), None, "template not found") from None


def _template_place(error: Exception, name: str) -> tuple[str, int | None]:
    """The template and line where rendering failed.

    Jinja rewrites tracebacks so that frames of templates carry the template's file name
    and line: the last such frame is where the missing value was asked for.
    """
    place = (name, None)
    traceback = error.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith(".html"):
            place = (Path(filename).name, traceback.tb_lineno)
        traceback = traceback.tb_next
    return place


def _body_of(html: str) -> str:
    start = html.index(">", html.index("<body")) + 1
    return html[start:html.rindex("</body>")]
