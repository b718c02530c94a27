"""Render stage helper: the allow-list every chapter's HTML passes before layout.

Markdown lets authors write raw HTML, and attribute lists ({: rel=attachment }) can put
any attribute on an element. WeasyPrint acts on some of them: it fetches <link>, <base>
changes where relative URLs point, rel="attachment" embeds files into the PDF. Only what
the book's Markdown produces passes; everything else is removed, whatever wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "aside",
    "details",
    "summary",  # the book's HTML boxes (layout/book.css, "HTML boxes")
}
ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    # No width or height: a picture prints at its own size, at most the column's width
    # (layout/book.css, "Pictures"); WeasyPrint would ignore them anyway.
    "img": {"src", "alt"},
    "details": {"open"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style", "scope"},
    "ol": {"start"},
}
#: Removed with what they contain, not just their tags.
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "template",
    "noscript",
    "textarea",
    "select",
}


def clean_html(html: str) -> str:
    """The HTML with only the allowed elements and attributes, links to http(s) and mailto."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        clean_content_tags=DROPPED_WITH_CONTENT,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
        filter_style_properties={"text-align"},
        attribute_filter=_from_the_project,
    )


SITE_ROOT_ASSETS = "/assets/"


def _from_the_project(tag: str, attribute: str, value: str) -> str:
    """A file named from a website's root (/assets/map.png) is the project's assets/map.png.

    Chapters are laid out from chapters/, where that is ../assets/map.png; the load stage
    has checked that the file is there.
    """
    if attribute in ("src", "href") and value.startswith(SITE_ROOT_ASSETS):
        return ".." + value
    return value


HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")
VOID_TAGS = {"br", "hr", "img", "wbr", "input", "col", "area", "source", "meta", "link", "base"}
MAX_DEPTH = 100  # elements inside elements: a book needs a handful; layout recurses into each


def depth_after(html: str, depth: int = 0) -> tuple[int, int]:
    """The nesting depth after the HTML, and the deepest it reached within it."""
    deepest = depth
    for closing, tag, self_closing in HTML_TAG.findall(html):
        if tag.lower() not in VOID_TAGS and not self_closing:
            depth = max(depth + (-1 if closing else 1), 0)
            deepest = max(deepest, depth)
    return depth, deepest


# --- What the allow-list leaves out -----------------------------------------------------------


@dataclass(frozen=True)
class Dropped:
    """An element, or an attribute of one, that clean_html removes."""

    tag: str
    attribute: str | None = None  # None: the element itself
    value: str = ""  # the attribute's value, or the style declarations left out

    @property
    def with_content(self) -> bool:
        """Whether the element goes with everything in it, not only its tags."""
        return self.attribute is None and self.tag in DROPPED_WITH_CONTENT


class _Elements(HTMLParser):
    """(tag, attributes) of every element the HTML opens, in order; none of those inside an
    element that goes with its content (it goes with them)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.inside: list[str] = []  # the elements going with their content, open here

    def handle_starttag(self, tag, attrs):
        if not self.inside:
            self.found.append((tag, {name: value or "" for name, value in attrs}))
        if tag in DROPPED_WITH_CONTENT and tag not in VOID_TAGS:
            self.inside.append(tag)

    def handle_startendtag(self, tag, attrs):
        if not self.inside:
            self.found.append((tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        if tag in self.inside:
            del self.inside[len(self.inside) - 1 - self.inside[::-1].index(tag) :]


def html_elements(html: str) -> list[tuple[str, dict[str, str]]]:
    """(tag, attributes) of the elements of the HTML, as an HTML parser reads them."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def dropped_by_allow_list(html: str) -> list[Dropped]:
    """What clean_html would leave out of the HTML, in order, so that it can be reported."""
    dropped: list[Dropped] = []
    for tag, attributes in html_elements(html):
        if tag not in TAGS:
            dropped.append(Dropped(tag))
            continue
        allowed = ATTRIBUTES["*"] | ATTRIBUTES.get(tag, set())
        for name, value in attributes.items():
            if name not in allowed:
                dropped.append(Dropped(tag, name, value))
            elif name == "style" and (left_out := _style_left_out(value)):
                dropped.append(Dropped(tag, name, left_out))
    return dropped


def _style_left_out(style: str) -> str:
    """The declarations of a style="…" that clean_html does not keep (it keeps text-align)."""
    declarations = [part.strip() for part in style.split(";") if part.strip()]
    return "; ".join(
        part for part in declarations if part.split(":", 1)[0].strip().lower() != "text-align"
    )
