"""Render stage helper: the allow-list every chapter's HTML passes before layout.

Markdown lets authors write raw HTML, and attribute lists ({: rel=attachment }) can put
any attribute on an element. WeasyPrint acts on some of them: it fetches <link>, <base>
changes where relative URLs point, rel="attachment" embeds files into the PDF. Only what
the book's Markdown produces passes; everything else is removed, whatever wrote it.
"""

from __future__ import annotations

import re

import nh3

TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "ins", "li", "ol", "p", "pre", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style", "scope"},
    "ol": {"start"},
}
#: Removed with what they contain, not just their tags.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "svg", "math", "template",
                        "noscript", "textarea", "select"}


def clean_html(html: str) -> str:
    """The HTML with only the allowed elements and attributes, links to http(s) and mailto."""
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, clean_content_tags=DROPPED_WITH_CONTENT,
        url_schemes={"http", "https", "mailto"}, link_rel=None, strip_comments=True,
        filter_style_properties={"text-align"})


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
